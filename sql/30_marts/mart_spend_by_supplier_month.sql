-- One row per council, supplier, category, month, addressable and on-contract flag: spend and lines
-- paid to named suppliers (redacted payments have no supplier and are not here). A table: the
-- collaboration page and the off-contract reports read it with every filter change.
create or replace table mart_spend_by_supplier_month as

with

spend as (
    select * from fct_spend where supplier_id is not null
)

select
    council_id,
    supplier_id,
    category,
    month,
    is_addressable,
    is_on_contract,
    sum(amount_gbp)::double as spend_gbp,
    count(*) as count_lines
from spend
group by all
order by month, council_id, supplier_id
