-- One row per KPI per council (or STAR) per month for the balanced scorecard: the KPIs reported in
-- the extracts and those computed from the data, each with its perspective, its Responsible
-- Procurement objective (data/reference/kpi_objectives.csv) and the RAG tolerance to judge it by.
-- A table: every KPI page query reads it.
-- key: council_id, kpi_code, month
create or replace table mart_kpis_scorecard_by_month as

with

reported as (
    select
        council_id, kpi_code, kpi_name, perspective, unit, higher_is_better, month, value, target,
        null::double as numerator, null::double as denominator, 'extract' as source
    from fct_kpis
),

computed as (
    select
        council_id, kpi_code, kpi_name, perspective, unit, higher_is_better, month, value, target,
        numerator, denominator, 'data' as source
    from mart_kpis_computed_by_month
),

kpis as (
    select * from reported
    union all
    select * from computed
),

objectives as (
    select upper(trim(kpi_code)) as kpi_code, trim(objective) as objective from ref_kpi_objectives
),

objective_order as (
    select trim(objective) as objective, try_cast(sort_order as integer) as objective_order from ref_rp_objectives
),

perspective_order as (
    select lower(trim(perspective)) as perspective_key, try_cast(sort_order as integer) as perspective_order
    from ref_kpi_perspectives
),

councils as (
    select council_id, is_council from dim_councils
),

thresholds as (
    select value as amber_tolerance from cfg_thresholds where name = 'kpi_rag_amber_tolerance'
)

select
    kpis.council_id,
    not coalesce(councils.is_council, true) as is_shared_service,
    kpis.kpi_code,
    coalesce(nullif(trim(kpis.kpi_name), ''), kpis.kpi_code) as kpi_name,
    coalesce(nullif(trim(kpis.perspective), ''), 'Not given') as perspective,
    coalesce(perspective_order.perspective_order, 99) as perspective_order,
    coalesce(objectives.objective, 'Not mapped') as objective,
    coalesce(objective_order.objective_order, 99) as objective_order,
    coalesce(kpis.unit, 'count') as unit,
    kpis.higher_is_better,
    kpis.month,
    kpis.value,
    kpis.target,
    kpis.numerator,
    kpis.denominator,
    kpis.source,
    thresholds.amber_tolerance
from kpis
left join councils using (council_id)
left join objectives using (kpi_code)
left join objective_order using (objective)
left join perspective_order on perspective_order.perspective_key = lower(trim(kpis.perspective))
cross join thresholds
