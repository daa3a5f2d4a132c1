-- One row per council: its contracts only in its register, only in its Find a Tender / Contracts
-- Finder notices, and in both (matched by OCID, reference, or supplier, value and dates).
-- key: council_id
create or replace view mart_contract_sources_by_council as

with

contracts as (
    select * from fct_contracts
)

select
    council_id,
    count(*) filter (where source = 'register') as count_register_only,
    count(*) filter (where source = 'notices') as count_notices_only,
    count(*) filter (where source = 'both') as count_both,
    coalesce(sum(value_gbp) filter (where source = 'register'), 0) as register_only_gbp,
    coalesce(sum(value_gbp) filter (where source = 'notices'), 0) as notices_only_gbp,
    coalesce(sum(value_gbp) filter (where source = 'both'), 0) as both_gbp,
    count(*) filter (where source = 'both') / nullif(count(*) filter (where source <> 'notices'), 0)
        as register_in_notices_share
from contracts
group by council_id
