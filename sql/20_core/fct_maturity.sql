-- One row per council, key area and assessment: current and target maturity as levels 1-5, the
-- gap between them, and what could not be read (an area not in the strategy, a level not named).
create or replace view fct_maturity as

with

assessments as (
    select * from stg_maturity
),

areas as (
    select * from dim_maturity_areas
),

levels as (
    select list(level_name order by level) as level_names from dim_maturity_levels
),

matched as (
    select
        assessments.*,
        areas.area_code,
        areas.area as area_name,
        areas.theme,
        areas.kind,
        areas.sort_order as area_order,
        maturity_level(assessments.current_level_text, levels.level_names) as current_level,
        maturity_level(assessments.target_level_text, levels.level_names) as target_level,
        levels.level_names
    from assessments
    cross join levels
    left join areas on list_contains(areas.area_keys, assessments.area_key)
)

select
    council_id,
    area_code,
    coalesce(area_name, area) as area,
    area as area_as_published,
    theme,
    kind,
    area_order,
    assessed_date,
    financial_year(assessed_date) as financial_year,
    current_level,
    level_names[current_level] as current_level_name,
    target_level,
    level_names[target_level] as target_level_name,
    target_level - current_level as gap_levels,
    target_date,
    notes,
    case
        when area_code is null then 'key area not in the National Procurement Strategy 2018'
        when current_level is null then 'current level not readable: ' || coalesce(current_level_text, '(blank)')
        when target_level is null and target_level_text is not null
            then 'target level not readable: ' || target_level_text
    end as problem,
    source_file,
    source_row
from matched
