-- One row per identified supplier, council, financial year, category, exclusion reason and on/off
-- contract: mart_spend_by_supplier_month at year grain. Supplier counts over whole financial years
-- that do not cut by month or quarter read this table. `month` is the first day of the financial
-- year, so a period filter on month still applies.
-- key: supplier_id, council_id, financial_year, category, exclusion_reason?, is_on_contract?
create or replace table mart_spend_by_supplier_year as

with

by_month as (
    select * from mart_spend_by_supplier_month
)

select
    supplier_id,
    council_id,
    make_date(left(financial_year, 4)::integer, 4, 1) as month,
    financial_year,
    category,
    is_addressable,
    exclusion_reason,
    is_on_contract,
    sum(spend_gbp)::decimal(18, 2) as spend_gbp,
    sum(count_lines)::bigint as count_lines
from by_month
group by all
order by month, council_id, supplier_id
