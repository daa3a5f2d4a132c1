-- One row per KPI per council per month (the latest file wins when a month is restated).
create or replace view stg_kpis as

select
    council_id,
    upper(trim(kpi_code)) as kpi_code,
    kpi_name,
    perspective,
    lower(unit) as unit,
    date_trunc('month', period_date)::date as month,
    value,
    target,
    coalesce(higher_is_better, true) as higher_is_better,
    source_file,
    source_row
from raw_kpis
qualify row_number() over (
    partition by council_id, upper(trim(kpi_code)), date_trunc('month', period_date) order by file_id desc
) = 1
