-- One row per objective of STAR's Responsible Procurement Strategy (data/reference/rp_objectives.csv).
create or replace view dim_rp_objectives as

select
    trim(objective) as objective,
    try_cast(sort_order as integer) as sort_order,
    description
from ref_rp_objectives
