-- supplier_search: Suppliers paid by the user's councils whose name, as any of those councils
-- spells it, contains ``text`` (case-insensitive, literally: no wildcards), largest spend first.
with
names as (
    select supplier_id, supplier_name, spend_gbp
    from mart_spend_by_supplier_name
    where in_scope(council_id, ?)
),
found as (
    select supplier_id, sum(spend_gbp) as spend_gbp,
           bool_or(contains(lower(supplier_name), lower(?))) as is_match
    from names
    group by supplier_id
)
select found.supplier_id, d.supplier_name, found.spend_gbp
from found
join dim_suppliers d using (supplier_id)
where found.is_match or contains(lower(d.supplier_name), lower(?))
order by found.spend_gbp desc, d.supplier_name
limit ?
