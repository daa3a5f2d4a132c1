-- One row per council, month, category (levels 1 and 2), department and combination of flags: the
-- spend cube rolled up over suppliers, a fifth of its size or less. Queries that neither cut by
-- supplier nor count suppliers read this table; is_matched says the lines name an identified
-- supplier (not redacted, not blank), for the coverage of each council's data.
-- key: council_id, month, category, category_l2?, department?, is_matched, is_redacted, is_categorised,
--      is_addressable, exclusion_reason?, is_on_contract?, is_local?, is_sme?, is_vcse?
create or replace table mart_spend_cube_rollup as

with

cube as (
    select * from mart_spend_cube
)

select
    council_id,
    month,
    financial_year,
    quarter,
    category,
    category_l2,
    department,
    supplier_id is not null and not is_redacted as is_matched,
    is_redacted,
    is_categorised,
    is_addressable,
    exclusion_reason,
    is_on_contract,
    is_local,
    is_sme,
    is_vcse,
    sum(spend_gbp) as spend_gbp,
    sum(count_lines) as count_lines,
    sum(count_credits) as count_credits,
    sum(count_small_lines) as count_small_lines
from cube
group by all
order by month, council_id
