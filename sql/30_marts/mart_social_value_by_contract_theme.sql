-- One row per contract and TOMs theme: social value committed and delivered to date, in £.
-- A table: the social value page reads it on every run.
-- key: contract_id, theme
create or replace table mart_social_value_by_contract_theme as

with

measures as (
    select * from fct_social_value
),

contracts as (
    select contract_id, council_id, covered_council_ids, start_date from fct_contracts
)

select
    contracts.contract_id,
    contracts.council_id,
    contracts.covered_council_ids,
    contracts.start_date,
    coalesce(nullif(trim(measures.theme), ''), 'Theme not given') as theme,
    coalesce(sum(measures.value_gbp) filter (where measures.record_type = 'committed'), 0) as committed_gbp,
    coalesce(sum(measures.value_gbp) filter (where measures.record_type = 'delivered'), 0) as delivered_gbp,
    coalesce(sum(measures.value_gbp) filter (where measures.record_type = 'delivered' and measures.is_local), 0)
        as delivered_local_gbp
from measures
join contracts using (contract_id)
group by all
