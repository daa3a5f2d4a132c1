-- contract_sources: Per council, contracts only in the register, only in notices, and in both.
select councils.short_name as council, sources.*
from mart_contract_sources_by_council as sources
join dim_councils as councils using (council_id)
where in_scope_or_shared(sources.council_id, ?, ?)
order by councils.sort_order
