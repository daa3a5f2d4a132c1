-- One row per council, month, category (levels 1 and 2), department, supplier and combination of
-- flags (addressable and why not, on contract, local, SME, VCSE, redacted, categorised): spend, lines,
-- credits, and payment lines under the small-line threshold. The spend and benchmarking pages
-- aggregate this table, never the lines; supplier_id stays in the grain so that suppliers are
-- counted exactly (count distinct) at any level.
-- key: council_id, month, category, category_l2?, department?, supplier_id?, is_redacted, is_categorised,
--      is_addressable, exclusion_reason?, is_on_contract?, is_local?, is_sme?, is_vcse?
create or replace table mart_spend_cube as

with

spend as (
    select * from fct_spend
),

small_line as (
    select threshold_gbp from dim_benchmark_measures where measure = 'small_line_share'
)

select
    spend.council_id,
    spend.month,
    spend.financial_year,
    fy_quarter(spend.month) as quarter,
    spend.category,
    spend.category_l2,
    coalesce(nullif(upper(trim(spend.department)), ''), '') as department,
    spend.supplier_id,
    spend.is_redacted,
    spend.category_source <> 'none' as is_categorised,
    spend.is_addressable,
    spend.exclusion_reason,
    spend.is_on_contract,
    spend.is_local,
    spend.is_sme,
    spend.is_vcse,
    sum(spend.amount_gbp) as spend_gbp,
    count(*) as count_lines,
    count(*) filter (where spend.is_credit) as count_credits,
    count(*) filter (where not spend.is_credit and spend.amount_gbp < (select threshold_gbp from small_line))
        as count_small_lines
from spend
group by all
order by spend.month, spend.council_id
