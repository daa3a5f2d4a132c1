-- One row per council, key area and assessment: current and target level, the gap, and the level
-- the previous readable assessment recorded (rows that could not be read keep their problem for review).
-- A table: small, and the level parsing behind it need not run on every page view.
-- key: council_id, source_file, source_row
create or replace table mart_maturity_by_council_area as

with

assessments as (
    select * from fct_maturity
)

select
    *,
    lag(current_level) over (
        partition by council_id, area_code, problem is null order by assessed_date
    ) as previous_level,
    lag(assessed_date) over (
        partition by council_id, area_code, problem is null order by assessed_date
    ) as previous_assessed_date
from assessments
