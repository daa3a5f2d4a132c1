-- One row per identified supplier, council, month, category, exclusion reason (none for addressable
-- spend) and on/off contract: spend and lines paid to named suppliers (redacted payments have no
-- supplier and are not here), stored in month order so that a period reads only its own row groups.
-- A table: the supplier profile, supplier concentration and counts (spend page), and the
-- collaboration page and off-contract reports read it with every filter change.
-- key: supplier_id, council_id, month, category, exclusion_reason?, is_on_contract?
create or replace table mart_spend_by_supplier_month as

with

spend as (
    select * from fct_spend where supplier_id is not null
)

select
    supplier_id,
    council_id,
    month,
    financial_year,
    fy_quarter(month) as quarter,
    category,
    is_addressable,
    exclusion_reason,
    is_on_contract,
    sum(amount_gbp) as spend_gbp,
    count(*) as count_lines
from spend
group by all
order by month, council_id, supplier_id
