-- expiring_contracts: Contracts (own or STAR ones covering a council in scope) falling due in the
-- next N months: the pipeline's due date (the end date, or the maximum end date once the contract
-- runs in an extension: contract_status calls it live) from today up to, not including, the same day
-- N months on (6 Dec to 6 Jun, not to 1 Jun), as the pipeline's buckets count it.
with due as (
    select value_gbp, case when end_date >= $today then end_date else max_end_date end as due_date
    from mart_contracts
    where covers_scope(covered_council_ids, $ids)
)
select count(*) as count_contracts, coalesce(sum(value_gbp), 0) as value_gbp
from due
where due_date >= $today and due_date < ($today + to_months($months))::date
