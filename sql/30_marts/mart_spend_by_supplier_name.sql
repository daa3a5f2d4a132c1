-- One row per supplier, council and name as that council publishes it (in its ledger or its contracts
-- register): the lines and spend under that spelling. The supplier profile lists the variants that
-- were merged into one supplier, and the supplier search looks names up here, council by council.
-- key: supplier_id, council_id, supplier_name
create or replace table mart_spend_by_supplier_name as

with

names as (
    select council_id, supplier_name, supplier_id from map_supplier_names
),

spend as (
    select council_id, supplier_name, count(*) as count_lines, sum(amount_gbp) as spend_gbp,
           min(month) as first_month, max(month) as last_month
    from fct_spend
    where supplier_name is not null
    group by all
)

select
    names.supplier_id,
    names.council_id,
    names.supplier_name,
    coalesce(spend.count_lines, 0) as count_lines,
    coalesce(spend.spend_gbp, 0) as spend_gbp,
    spend.first_month,
    spend.last_month
from names
left join spend using (council_id, supplier_name)
order by names.supplier_id, names.council_id
