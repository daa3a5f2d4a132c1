-- One row per maturity level of the National Procurement Strategy 2018 (Minimum 1 ... Innovator 5).
create or replace view dim_maturity_levels as

select
    try_cast(level as integer) as level,
    trim(name) as level_name,
    description
from ref_nps_maturity_levels
