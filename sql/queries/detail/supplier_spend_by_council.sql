-- supplier_spend_by_council: One supplier's spend per council of the scope in the period: on and
-- off contract (null, "no data", for a council with no contracts loaded), lines.
select councils.short_name as council, sum(spend.spend_gbp) as spend_gbp,
       case when bool_or(spend.is_on_contract is not null)
            then coalesce(sum(spend.spend_gbp) filter (where spend.is_on_contract), 0) end as on_contract_gbp,
       case when bool_or(spend.is_on_contract is not null)
            then coalesce(sum(spend.spend_gbp) filter (where not spend.is_on_contract), 0) end as off_contract_gbp,
       sum(spend.count_lines)::bigint as count_lines, max(spend.month) as last_month
from mart_spend_by_supplier_month as spend
join dim_councils as councils using (council_id)
where spend.supplier_id = $supplier_id and in_scope(spend.council_id, $ids)
  and spend.month between $date_from and $date_to and (spend.is_addressable or not $addressable)
group by councils.short_name, councils.sort_order
order by councils.sort_order
