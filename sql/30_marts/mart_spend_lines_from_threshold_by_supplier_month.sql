-- One row per publication threshold above £0 that some council publishes from (dim_spend_publication),
-- council, month, supplier (null: redacted) and addressable or not: the spend and payment lines of
-- that threshold and over, and those under the small-line threshold. Benchmarking reads it when one
-- council in scope publishes only lines over a threshold, so every council's line measures count the
-- same lines (with every council publishing every line it reads the spend cube instead).
-- key: floor_gbp, council_id, month, supplier_id?, is_addressable
create or replace table mart_spend_lines_from_threshold_by_supplier_month as

with

floors as (
    select distinct publishes_from_gbp as floor_gbp from dim_spend_publication where publishes_from_gbp > 0
),

small_line as (
    select threshold_gbp from dim_benchmark_measures where measure = 'small_line_share'
)

select
    floors.floor_gbp,
    spend.council_id,
    spend.month,
    spend.supplier_id,
    spend.is_addressable,
    sum(spend.amount_gbp) as spend_gbp,
    count(*) as count_lines,
    count(*) filter (where spend.amount_gbp < (select threshold_gbp from small_line)) as count_small_lines
from fct_spend as spend
join floors on spend.amount_gbp >= floors.floor_gbp
group by all
order by spend.month, spend.council_id
