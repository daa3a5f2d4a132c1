-- One row per identified supplier, council, month, category and exclusion reason (none for
-- addressable spend): spend and lines, a third of the cube's rows, stored in month order so that a
-- period reads only its own row groups. The supplier profile, the supplier concentration measures and
-- the counts of suppliers by council, time and category read it.
create or replace table mart_spend_by_supplier_month as

with

cube as (
    select * from mart_spend_cube where supplier_id is not null
)

select
    supplier_id,
    council_id,
    month,
    financial_year,
    quarter,
    category,
    is_addressable,
    exclusion_reason,
    sum(spend_gbp) as spend_gbp,
    sum(count_lines) as count_lines
from cube
group by all
order by month, council_id, supplier_id
