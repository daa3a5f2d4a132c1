-- One row per council, month and combination of flags: spend and lines. Small enough that every
-- overview filter answers from it at once.
-- key: council_id, month, is_addressable, exclusion_reason?, is_on_contract?, is_local?, is_sme?, is_vcse?
create or replace table mart_spend_by_council_month as

select
    council_id,
    month,
    financial_year,
    is_addressable,
    coalesce(exclusion_reason, '') as exclusion_reason,
    is_on_contract,
    is_local,
    is_sme,
    is_vcse,
    sum(amount_gbp) as spend_gbp,
    count(*) as count_lines,
    count(*) filter (where is_credit) as count_credits
from fct_spend
group by all
