-- unclassified_by_council: Per council in scope: spend with no ProClass heading, and spend classified
-- only from the supplier's other lines or from the council's expense-type mapping (tiers 2 and 3), in
-- the period (addressable only when the filter says so). Amounts are net spend; the shares follow the
-- one share rule (supplier_net_spend: credits netted against the same supplier in the period, a
-- supplier netting to nothing or less left out of both parts and counted in share_left_out_gbp, the
-- same figure as the overview's and benchmarking's for the same spend), so they lie between 0 and 1.
-- A council with no spend in the period keeps its row with no shares ("no data", never 0%).
with basis as (
    select council_id, supplier_id, category_source, spend_gbp, count_lines
    from mart_classification_by_supplier_month
    where in_scope(council_id, ?) and month between ? and ? and (is_addressable or not ?)
),
slices as (select council_id, supplier_id, category_source, spend_gbp from basis),
amounts as (
    select council_id,
           sum(spend_gbp) as spend_gbp,
           coalesce(sum(spend_gbp) filter (where category_source = 'none'), 0) as unclassified_gbp,
           coalesce(sum(spend_gbp) filter (where category_source = 'supplier'), 0) as from_supplier_gbp,
           coalesce(sum(spend_gbp) filter (where category_source = 'expense type'), 0) as from_expense_type_gbp,
           coalesce(sum(count_lines) filter (where category_source = 'none'), 0) as count_unclassified_lines
    from basis
    group by council_id
),
shares as (
    select council_id,
           known_share(category_source = 'none', spend_gbp) as unclassified_share,
           known_share(category_source = 'expense type', spend_gbp) as from_expense_type_share,
           known_share(category_source = 'supplier', spend_gbp) as from_supplier_share,
           share_left_out(spend_gbp) as share_left_out_gbp
    from supplier_net_spend(slices)
    group by council_id
)
select c.short_name as council,
       a.spend_gbp, a.unclassified_gbp, a.from_supplier_gbp, a.from_expense_type_gbp,
       s.unclassified_share, s.from_expense_type_share, s.from_supplier_share, s.share_left_out_gbp,
       a.count_unclassified_lines
from dim_councils c
left join amounts a using (council_id)
left join shares s using (council_id)
where c.is_council and in_scope(c.council_id, ?)
order by c.sort_order
