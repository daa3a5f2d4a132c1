-- supplier_spend_by_council_month: The supplier's spend per council per month, every month loaded
-- (the period filter aside).
select c.short_name as council, m.month, sum(m.spend_gbp) as spend_gbp
from mart_spend_by_supplier_month m
join dim_councils c using (council_id)
where m.supplier_id = ? and in_scope(m.council_id, ?)
group by c.short_name, c.sort_order, m.month
order by m.month, c.sort_order
