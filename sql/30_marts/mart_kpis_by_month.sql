-- One row per KPI per council per month: value, target, RAG, and the change on the month before.
-- key: council_id, kpi_code, month
create or replace view mart_kpis_by_month as

select
    *,
    value - lag(value) over (partition by council_id, kpi_code order by month) as change_on_month
from fct_kpis
