-- One row per KPI per council per month, with RAG status against its target (tolerance from
-- configuration).
create or replace view fct_kpis as

with

kpis as (
    select * from stg_kpis
),

thresholds as (
    select value as amber_tolerance from cfg_thresholds where name = 'kpi_rag_amber_tolerance'
)

select
    kpis.*,
    financial_year(kpis.month) as financial_year,
    kpi_rag(kpis.value, kpis.target, kpis.higher_is_better, thresholds.amber_tolerance) as rag
from kpis
cross join thresholds
