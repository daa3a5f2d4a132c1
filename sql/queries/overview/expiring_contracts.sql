-- expiring_contracts: Contracts (own or STAR ones covering a council in scope) whose end date falls
-- in the next N months.
select count(*) as count_contracts, coalesce(sum(value_gbp), 0) as value_gbp
from mart_contracts
where covers_scope(covered_council_ids, ?)
  and end_date between ? and ?
