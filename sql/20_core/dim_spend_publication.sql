-- One row per council with spend configured or loaded: which lines it publishes. Councils publish
-- spend over a threshold (the Transparency Code's £500) or every line, so measures that depend on
-- which lines are published (average line, share of small lines, number of suppliers) compare
-- councils over the lines every one of them publishes. The threshold is the council's configuration
-- (`publishes_lines_from_gbp`), else derived from its smallest positive line: the Transparency
-- Code's threshold (`spend_publication_threshold_gbp`, £500) when no line is under it, else every
-- line (£0); unknown (null) for a council with no spend loaded.
-- A table: read by benchmarking with every filter change.
-- key: council_id
create or replace table dim_spend_publication as

with

configured as (
    select council_id, publishes_lines_from_gbp from cfg_datasets where dataset = 'spend'
),

smallest as (
    select council_id, min(amount_gbp) as smallest_line_gbp
    from fct_spend
    where amount_gbp > 0
    group by all
)

select
    council_id,
    configured.publishes_lines_from_gbp as configured_from_gbp,
    smallest.smallest_line_gbp,
    coalesce(
        configured.publishes_lines_from_gbp,
        case
            when smallest.smallest_line_gbp >= threshold.value then threshold.value
            when smallest.smallest_line_gbp is not null then 0
        end
    )::decimal(18, 2) as publishes_from_gbp
from configured
full join smallest using (council_id)
cross join (select value from cfg_thresholds where name = 'spend_publication_gbp') as threshold
