-- One row per file (or ZIP member) read by the build, with whether it holds the council's latest
-- data for that dataset.
create or replace view fct_files as

with

files as (
    select * from stg_files
),

ranked as (
    select
        *,
        row_number() over (
            partition by council_id, dataset
            order by (status = 'loaded') desc, last_date desc nulls last, received_at desc, file_id desc
        ) as recency
    from files
)

select
    * exclude (recency),
    recency = 1 and status = 'loaded' as is_latest
from ranked
