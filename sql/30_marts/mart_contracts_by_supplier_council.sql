-- One row per supplier, contract and council the contract covers (a STAR collaborative contract
-- appears once for each council it covers): the contract's register fields and what that council
-- has paid the supplier under it to date. The supplier profile reads it and adds the status for its
-- own today.
-- key: contract_id, council_id
create or replace table mart_contracts_by_supplier_council as

with

contracts as (
    select * from fct_contracts where supplier_id is not null
),

covered as (
    select contracts.*, unnest(contracts.covered_council_ids) as covered_council_id
    from contracts
),

spend as (
    select contract_id, council_id, sum(amount_gbp) as spend_gbp, max(payment_date) as last_payment_date
    from fct_spend
    where contract_id is not null
    group by all
)

select
    covered.supplier_id,
    covered.covered_council_id as council_id,
    covered.contract_id,
    covered.council_id as let_by_council_id,
    covered.is_collaborative,
    covered.contract_ref,
    covered.contract_title,
    covered.category,
    covered.start_date,
    covered.end_date,
    covered.max_end_date,
    covered.value_gbp,
    coalesce(spend.spend_gbp, 0) as spend_gbp,
    spend.last_payment_date
from covered
left join spend
    on spend.contract_id = covered.contract_id
    and spend.council_id = covered.covered_council_id
