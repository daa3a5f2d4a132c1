-- supplier_spend_by_month: One supplier's spend per council per month in the period (the shape of
-- ``spend_by_council_month``).
select councils.short_name as council, spend.month, sum(spend.spend_gbp) as spend_gbp
from mart_spend_by_supplier_month as spend
join dim_councils as councils using (council_id)
where spend.supplier_id = $supplier_id and in_scope(spend.council_id, $ids)
  and spend.month between $date_from and $date_to and (spend.is_addressable or not $addressable)
group by councils.short_name, councils.sort_order, spend.month
order by spend.month, councils.sort_order
