-- One row per KPI per council per month, with RAG status against its target.
create or replace view fct_kpis as

select
    *,
    financial_year(month) as financial_year,
    case
        when target is null then 'none'
        when (higher_is_better and value >= target) or (not higher_is_better and value <= target) then 'green'
        when (higher_is_better and value >= target * 0.9) or (not higher_is_better and value <= target * 1.1)
            then 'amber'
        else 'red'
    end as rag
from stg_kpis
