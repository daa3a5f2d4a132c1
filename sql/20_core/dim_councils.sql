-- One row per partner (and STAR itself): name, GSS code, population, colour, joined date.
create or replace view dim_councils as

select
    council_id,
    name,
    short_name,
    kind,
    kind = 'council' as is_council,
    gss_code,
    population,
    colour,
    joined_date,
    left_date,
    sort_order
from cfg_councils
