-- One row per call: the RAG status of a KPI value against its target. 'no data' with no value (the
-- data behind it is not loaded: neither on nor off target); green on or better than the target; amber
-- when short of it by no more than `tolerance` of the target; red beyond; 'none' with no target. The
-- tolerance comes from configuration (cfg_thresholds).
create or replace macro kpi_rag(value, target, higher_is_better, tolerance) as (
    case
        when value is null then 'no data'
        when target is null then 'none'
        when (higher_is_better and value >= target) or (not higher_is_better and value <= target) then 'green'
        when (higher_is_better and value >= target - abs(target) * tolerance)
            or (not higher_is_better and value <= target + abs(target) * tolerance) then 'amber'
        else 'red'
    end
);
