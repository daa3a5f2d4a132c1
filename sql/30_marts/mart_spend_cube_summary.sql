-- One row per council, month, category and combination of flags: the spend cube without departments,
-- level-2 categories or suppliers, a fifth of the roll-up's size. Pivots by council, category, time
-- and flags, the benchmarking figures and the coverage of each council's data read this table.
-- key: council_id, month, category, is_matched, is_redacted, is_categorised, is_addressable,
--      exclusion_reason?, is_on_contract?, is_local?, is_sme?, is_vcse?
create or replace table mart_spend_cube_summary as

with

rollup as (
    select * from mart_spend_cube_rollup
)

select
    council_id,
    month,
    financial_year,
    quarter,
    category,
    is_matched,
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
from rollup
group by all
order by month, council_id
