-- category_suppliers: A category's suppliers in the period, ranked by spend: how many councils of
-- the scope pay each and how many of those hold a live contract with it, then per council its spend
-- and contract.
with
spend as (
    select council_id, supplier_id, sum(spend_gbp) as spend_gbp
    from mart_spend_by_supplier_month
    where category = $category and in_scope(council_id, $ids)
      and month between $date_from and $date_to and (is_addressable or not $addressable)
    group by all
    having sum(spend_gbp) > 0
),
held as (
    select supplier_id, council_id,
           max(case when end_date >= $today then end_date else max_end_date end) as contract_end_date,
           bool_and(is_collaborative) as only_star
    from (select supplier_id, unnest(covered_council_ids) as council_id, is_collaborative, end_date, max_end_date
          from mart_pipeline_by_contract
          where start_date <= $today and max_end_date >= $today)
    group by all
),
suppliers as (
    select spend.supplier_id, any_value(names.supplier_name) as supplier_name, count(*) as count_councils,
           sum(spend.spend_gbp) as spend_gbp, count(held.council_id) as count_councils_with_contract
    from spend
    join dim_suppliers as names using (supplier_id)
    left join held using (supplier_id, council_id)
    group by spend.supplier_id
)
select suppliers.*, spend.council_id, spend.spend_gbp as council_spend_gbp, held.contract_end_date, held.only_star
from suppliers
join spend using (supplier_id)
left join held using (supplier_id, council_id)
order by suppliers.spend_gbp desc, suppliers.supplier_name
