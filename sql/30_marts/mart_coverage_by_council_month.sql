-- One row per council, dataset and month that holds data or is expected to: rows and files loaded,
-- and whether the month is missing or partial. A dataset published monthly (ref_dataset_cadence)
-- is expected every month from the council's first month of it (not before the council joined
-- STAR) to the latest month any council has sent (not after it left). A council configured for a
-- dataset it has sent nothing of yet is expected no month: it is awaiting its first file
-- (mart_loaded_by_council_dataset says so once), not missing every month.
-- Partial (the one definition; the overview's comparisons and the data quality page read it): a
-- council's latest month of spend whose last payment, in lines that give the day, falls more than
-- cfg_thresholds.partial_month_days before the month ends (a file cut mid-month). `last_date` is
-- that last payment (null for other datasets, and for months whose lines give only the month).
-- A table: the data quality page and each import read it.
-- key: council_id, dataset, month
create or replace table mart_coverage_by_council_month as

with

loaded as (
    select council_id, 'spend' as dataset, month, count(*) as count_rows, count(distinct source_file) as count_files,
           max(payment_date) filter (where date_precision = 'day') as last_date
    from fct_spend
    group by all

    union all

    select council_id, 'contracts', date_trunc('month', start_date)::date, count(*), count(distinct source_file), null::date
    from fct_contracts
    where start_date is not null
    group by all

    union all

    select council_id, 'social_value', date_trunc('month', period_date)::date, count(*), count(distinct source_file), null::date
    from fct_social_value
    where period_date is not null
    group by all

    union all

    select council_id, 'kpis', month, count(*), count(distinct source_file), null::date
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
        -- null (no month expected) for a council that has sent none: greatest() would skip the null
        case when min(loaded.month) is not null
             then greatest(min(loaded.month), any_value(councils.joined_month)) end as first_month,
        least(any_value(dataset_spans.last_month), coalesce(any_value(councils.left_month), any_value(dataset_spans.last_month)))
            as last_month
    from cfg_datasets as configured
    join cadence on cadence.dataset = configured.dataset and cadence.is_monthly
    join dataset_spans on dataset_spans.dataset = configured.dataset
    join councils on councils.council_id = configured.council_id
    left join loaded on loaded.council_id = configured.council_id and loaded.dataset = configured.dataset
    group by configured.council_id, configured.dataset
),

latest as (
    select council_id, dataset, max(month) as month from loaded group by all
),

partial_days as (
    select value::integer as days from cfg_thresholds where name = 'partial_month_days'
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
    expected.month is not null and loaded.month is null as is_missing,
    loaded.last_date,
    coalesce(
        loaded.dataset = 'spend'
        and loaded.month = latest.month
        and loaded.last_date < last_day(loaded.month) - (select days from partial_days),
        false
    ) as is_partial
from loaded
full join expected
    on expected.council_id = loaded.council_id
    and expected.dataset = loaded.dataset
    and expected.month = loaded.month
left join latest
    on latest.council_id = loaded.council_id
    and latest.dataset = loaded.dataset
