-- supplier_profile: A supplier's name, identifiers and flags, or ``None`` when no council of the
-- scope has paid it or holds a contract with it (so a link cannot reveal suppliers outside the
-- user's councils).
select suppliers.*,
       (select coalesce(sum(spend_gbp), 0) from mart_spend_by_supplier_month
        where supplier_id = $supplier_id and in_scope(council_id, $ids)) as spend_all_time_gbp
from dim_suppliers as suppliers
where supplier_id = $supplier_id
  and (exists (select 1 from mart_spend_by_supplier_month
               where supplier_id = $supplier_id and in_scope(council_id, $ids))
       or exists (select 1 from mart_pipeline_by_contract
                  where supplier_id = $supplier_id and covers_scope(covered_council_ids, $ids)))
