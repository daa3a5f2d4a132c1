-- One row per key area or enabler of the National Procurement Strategy 2018, with its theme and
-- the names councils may use for it (data/reference/nps_maturity_areas.csv).
create or replace view dim_maturity_areas as

with

areas as (
    select * from ref_nps_maturity_areas
)

select
    area_code,
    trim(area) as area,
    trim(theme) as theme,
    trim(kind) as kind,
    try_cast(sort_order as integer) as sort_order,
    description,
    list_transform(
        list_concat([area], coalesce(string_split(aliases, ';'), [])),
        lambda name: maturity_area_key(name)
    ) as area_keys
from areas
