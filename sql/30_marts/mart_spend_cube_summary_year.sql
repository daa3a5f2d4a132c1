-- One row per council, financial year, category and combination of flags: the summary cube at year
-- grain, about a twelfth of its size. Queries over whole financial years (a year, all years, a
-- range of months from an April to a March) that do not cut by month or quarter read this table.
-- `month` is the first day of the financial year, so a period filter on month still applies.
-- key: council_id, financial_year, category, is_matched, is_redacted, is_categorised, is_addressable,
--      exclusion_reason?, is_on_contract?, is_local?, is_sme?, is_vcse?
create or replace table mart_spend_cube_summary_year as

with

summary as (
    select * from mart_spend_cube_summary
)

select
    council_id,
    make_date(left(financial_year, 4)::integer, 4, 1) as month,
    financial_year,
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
    sum(spend_gbp)::decimal(18, 2) as spend_gbp,
    sum(count_lines)::bigint as count_lines,
    sum(count_credits)::bigint as count_credits,
    sum(count_small_lines)::bigint as count_small_lines
from summary
group by all
order by month, council_id
