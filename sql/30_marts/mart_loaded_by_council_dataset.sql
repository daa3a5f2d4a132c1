-- One row per council and dataset it is configured for, of the datasets whose coverage is tracked
-- (ref_dataset_cadence): how much is loaded and how far it is complete. `complete_through` is the latest month loaded that is not partial (partial as
-- mart_coverage_by_council_month defines it: the one definition); `partial_month` the latest
-- month when it is partial, with `partial_last_date` its last payment. A council configured for
-- a dataset it has sent nothing of has `is_awaiting_first_file` (shown once as "no data loaded
-- yet", never as missing every month).
-- key: council_id, dataset
create or replace view mart_loaded_by_council_dataset as

with

loaded as (
    select
        council_id,
        dataset,
        count(*) as months_loaded,
        min(month) as first_month,
        max(month) as last_month,
        max(month) filter (where not is_partial) as complete_through,
        max(month) filter (where is_partial) as partial_month,
        max(last_date) filter (where is_partial) as partial_last_date
    from mart_coverage_by_council_month
    where count_rows > 0
    group by all
)

select
    configured.council_id,
    configured.dataset,
    coalesce(loaded.months_loaded, 0) as months_loaded,
    loaded.first_month,
    loaded.last_month,
    loaded.complete_through,
    loaded.partial_month,
    loaded.partial_last_date,
    loaded.council_id is null as is_awaiting_first_file
from (
    select distinct council_id, dataset
    from cfg_datasets
    where dataset in (select dataset from ref_dataset_cadence)
) as configured
left join loaded using (council_id, dataset)
