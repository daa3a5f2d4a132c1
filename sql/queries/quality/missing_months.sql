-- missing_months: Per council and dataset: the expected months in the period with no rows at all.
select c.short_name as council, m.dataset, count(*) as count_missing,
       string_agg(strftime(m.month, '%b %Y'), ', ' order by m.month) as months
from mart_coverage_by_council_month m
join dim_councils c using (council_id)
where m.is_missing and in_scope_or_shared(m.council_id, ?, ?)
  and m.month between ? and ?
group by c.short_name, c.sort_order, m.dataset
order by c.sort_order, m.dataset
