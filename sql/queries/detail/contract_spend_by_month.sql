-- contract_spend_by_month: Spend against a contract per council of the scope per month, over its
-- whole term.
select councils.short_name as council, spend.month, spend.spend_gbp
from mart_spend_by_contract_month as spend
join dim_councils as councils using (council_id)
where spend.contract_id = $contract_id and in_scope(spend.council_id, $ids)
order by spend.month, councils.sort_order
