-- One row per council (or STAR) whose social value returns name contracts that are in no contracts
-- register loaded: how many such contracts and the social value committed on them. Those returns are
-- in no social value figure (a share of contract value needs the contract): the social value page
-- names them, "no data" for those contracts rather than a council that committed nothing.
-- key: council_id
create or replace table mart_social_value_unmatched_by_council as

select
    council_id,
    count(distinct contract_ref) as count_contracts,
    coalesce(sum(value_gbp) filter (where record_type = 'committed'), 0) as committed_gbp
from fct_social_value
where not has_contract
group by council_id
