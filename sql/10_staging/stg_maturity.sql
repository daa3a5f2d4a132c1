-- One row per council, key area and assessment date as loaded (the latest file wins when an
-- assessment is restated); levels still as the council wrote them.
create or replace view stg_maturity as

with

raw as (
    select * from raw_maturity
)

select
    council_id,
    trim(area) as area,
    maturity_area_key(area) as area_key,
    period_date as assessed_date,
    nullif(trim(current_level), '') as current_level_text,
    nullif(trim(target_level), '') as target_level_text,
    target_date,
    nullif(trim(notes), '') as notes,
    file_id,
    source_file,
    source_row
from raw
qualify row_number() over (
    partition by council_id, maturity_area_key(area), period_date order by file_id desc, source_row desc
) = 1
