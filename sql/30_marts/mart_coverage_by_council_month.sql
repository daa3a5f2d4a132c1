-- One row per council, dataset and month that holds data or is expected to: rows and files loaded,
-- and whether the month is missing. A dataset published monthly (ref_dataset_cadence) is expected
-- every month from the council's first month of it (not before the council joined STAR; for a
-- council that has sent none, from the first month anyone sent) to the latest month any council
-- has sent (not after it left). A table: the data quality page and each import read it.
-- key: council_id, dataset, month
create or replace table mart_coverage_by_council_month as

with

loaded as (
    select council_id, 'spend' as dataset, month, count(*) as count_rows, count(distinct source_file) as count_files
    from fct_spend
    group by all

    union all

    select council_id, 'contracts', date_trunc('month', start_date)::date, count(*), count(distinct source_file)
    from fct_contracts
    where start_date is not null
    group by all

    union all

    select council_id, 'social_value', date_trunc('month', period_date)::date, count(*), count(distinct source_file)
    from fct_social_value
    where period_date is not null
    group by all

    union all

    select council_id, 'kpis', month, count(*), count(distinct source_file)
    from fct_kpis
    group by all
),

cadence as (
    select dataset, lower(expected_monthly) in ('true', 'yes', '1', 'y') as is_monthly
    from ref_dataset_cadence
),

councils as (
    select
        council_id,
        date_trunc('month', joined_date)::date as joined_month,
        date_trunc('month', left_date)::date as left_month
    from cfg_councils
),

dataset_spans as (
    select dataset, min(month) as first_month, max(month) as last_month
    from loaded
    group by dataset
),

council_spans as (
    select
        configured.council_id,
        configured.dataset,
        greatest(coalesce(min(loaded.month), any_value(dataset_spans.first_month)), any_value(councils.joined_month))
            as first_month,
        least(any_value(dataset_spans.last_month), coalesce(any_value(councils.left_month), any_value(dataset_spans.last_month)))
            as last_month
    from cfg_datasets as configured
    join cadence on cadence.dataset = configured.dataset and cadence.is_monthly
    join dataset_spans on dataset_spans.dataset = configured.dataset
    join councils on councils.council_id = configured.council_id
    left join loaded on loaded.council_id = configured.council_id and loaded.dataset = configured.dataset
    group by configured.council_id, configured.dataset
),

expected as (
    select
        council_id,
        dataset,
        unnest(generate_series(first_month, last_month, interval 1 month))::date as month
    from council_spans
    where first_month <= last_month
)

select
    coalesce(loaded.council_id, expected.council_id) as council_id,
    coalesce(loaded.dataset, expected.dataset) as dataset,
    coalesce(loaded.month, expected.month) as month,
    coalesce(loaded.count_rows, 0) as count_rows,
    coalesce(loaded.count_files, 0) as count_files,
    expected.month is not null as is_expected,
    expected.month is not null and loaded.month is null as is_missing
from loaded
full join expected
    on expected.council_id = loaded.council_id
    and expected.dataset = loaded.dataset
    and expected.month = loaded.month
