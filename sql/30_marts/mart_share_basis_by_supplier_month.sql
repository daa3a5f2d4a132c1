-- One row per council, month, supplier (null: redacted payees, together) and flags (addressable, on
-- contract, local, SME, VCSE): the month's net spend, credits and refunds netted against payments to
-- the same supplier with the same flags. What every share of spend by a flag is of (the
-- `known_share` macros, sql/00_functions): a row that nets to nothing or less is left out of the
-- share, and a period's share nets the months again (`supplier_net_spend`). A table, stored in month
-- order: the overview and benchmarking read a period of it.
-- key: council_id, month, supplier_id?, is_addressable, is_on_contract?, is_local?, is_sme?, is_vcse?
create or replace table mart_share_basis_by_supplier_month as

select
    council_id,
    month,
    supplier_id,
    is_addressable,
    is_on_contract,
    is_local,
    is_sme,
    is_vcse,
    sum(amount_gbp) as spend_gbp,
    count(*) filter (where is_credit) as count_credits
from fct_spend
group by all
order by month, council_id, supplier_id
