-- spend_by_council_month: Spend per council per month in the period (addressable only when the
-- filter says so).
select c.short_name as council, m.month, sum(m.spend_gbp) as spend_gbp
from mart_spend_by_council_month m
join dim_councils c using (council_id)
where in_scope(m.council_id, ?)
  and m.month between ? and ?
  and (m.is_addressable or not ?)
group by c.short_name, c.sort_order, m.month
order by m.month, c.sort_order
