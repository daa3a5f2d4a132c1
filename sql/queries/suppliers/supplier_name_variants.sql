-- supplier_name_variants: Each spelling of the supplier's name that was merged into it, by the
-- council that uses it.
select c.short_name as council, n.supplier_name as name_as_published, n.count_lines, n.spend_gbp
from mart_spend_by_supplier_name n
join dim_councils c using (council_id)
where n.supplier_id = ? and in_scope(n.council_id, ?)
order by c.sort_order, n.spend_gbp desc, n.supplier_name
