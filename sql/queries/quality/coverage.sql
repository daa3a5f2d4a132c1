-- coverage: Rows loaded per council per month of one dataset in the period, missing months flagged.
select c.short_name as council, m.month, m.count_rows, m.count_files, m.is_expected, m.is_missing
from mart_coverage_by_council_month m
join dim_councils c using (council_id)
where in_scope_or_shared(m.council_id, ?, ?)
  and m.dataset = ? and m.month between ? and ?
order by c.sort_order, m.month
