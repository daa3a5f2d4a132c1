-- unclassified_by_council: Per council: spend with no ProClass heading, and spend classified only
-- from the supplier's other lines or from the council's expense-type mapping (tiers 2 and 3), as shares of the spend in the period (addressable only when the
-- filter says so).
select c.short_name as council,
       sum(m.spend_gbp) as spend_gbp,
       coalesce(sum(m.spend_gbp) filter (where m.category_source = 'none'), 0) as unclassified_gbp,
       coalesce(sum(m.spend_gbp) filter (where m.category_source = 'supplier'), 0) as from_supplier_gbp,
       coalesce(sum(m.spend_gbp) filter (where m.category_source = 'expense type'), 0) as from_expense_type_gbp,
       coalesce(sum(m.spend_gbp) filter (where m.category_source = 'none'), 0) / nullif(sum(m.spend_gbp), 0)
           as unclassified_share,
       coalesce(sum(m.spend_gbp) filter (where m.category_source = 'expense type'), 0) / nullif(sum(m.spend_gbp), 0)
           as from_expense_type_share,
       coalesce(sum(m.spend_gbp) filter (where m.category_source = 'supplier'), 0) / nullif(sum(m.spend_gbp), 0)
           as from_supplier_share,
       coalesce(sum(m.count_lines) filter (where m.category_source = 'none'), 0) as count_unclassified_lines
from mart_classification_by_council_month m
join dim_councils c using (council_id)
where in_scope(m.council_id, ?) and m.month between ? and ?
  and (m.is_addressable or not ?)
group by c.short_name, c.sort_order
order by c.sort_order
