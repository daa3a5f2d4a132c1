-- One row per ProClass level-1 heading (plus "Not classified"), with its Trafford-style code prefix.
create or replace view dim_categories as

select heading as category, code_prefix, false as is_unclassified
from ref_proclass

union all

select 'Not classified', null, true
