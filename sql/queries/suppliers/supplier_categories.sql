-- supplier_categories: What the supplier is paid for: spend and lines per category (level 1), every
-- month loaded.
select category, sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines,
       count(distinct council_id) as count_councils
from mart_spend_by_supplier_month
where supplier_id = ? and in_scope(council_id, ?)
group by category
order by spend_gbp desc
