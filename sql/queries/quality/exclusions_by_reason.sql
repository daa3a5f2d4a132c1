-- exclusions_by_reason: Per council and reason: the spend left out of addressable spend in the
-- period.
select c.short_name as council, m.exclusion_reason, sum(m.spend_gbp) as spend_gbp,
       sum(m.count_lines) as count_lines,
       sum(m.spend_gbp) / any_value(t.total_gbp) as share_of_total
from mart_spend_by_council_month m
join dim_councils c using (council_id)
join (select council_id, sum(spend_gbp) as total_gbp from mart_spend_by_council_month
      where in_scope(council_id, ?) and month between ? and ?
      group by council_id) t using (council_id)
where not m.is_addressable and in_scope(m.council_id, ?) and m.month between ? and ?
group by c.short_name, c.sort_order, m.exclusion_reason
order by c.sort_order, spend_gbp desc
