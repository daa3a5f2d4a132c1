-- exclusions_by_reason: Per council and reason: the net spend left out of addressable spend in the
-- period, and its share of all the council's spend under the one share rule (supplier_net_spend:
-- credits netted against the same supplier in the period, a supplier netting to nothing or less left
-- out of both parts and counted in share_left_out_gbp, the council's figure for all its spend, on
-- each of its rows), so a share lies between 0 and 1; null ("no data") where nothing is left to count.
with basis as (
    select council_id, supplier_id, is_addressable, exclusion_reason, spend_gbp, count_lines
    from mart_classification_by_supplier_month
    where in_scope(council_id, ?) and month between ? and ?
),
slices as (select council_id, supplier_id, is_addressable, exclusion_reason, spend_gbp from basis),
nets as (select * from supplier_net_spend(slices)),
amounts as (
    select council_id, exclusion_reason as reason, sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines
    from basis
    where not is_addressable
    group by all
),
pairs as (  -- each reason against all of its council's nets
    select a.council_id, a.reason, n.spend_gbp,
           not n.is_addressable and n.exclusion_reason is not distinct from a.reason as is_excluded
    from amounts a
    join nets n using (council_id)
),
shares as (
    select council_id, reason, known_share(is_excluded, spend_gbp) as share_of_total,
           share_left_out(spend_gbp) as share_left_out_gbp
    from pairs
    group by all
)
select c.short_name as council, a.reason as exclusion_reason, a.spend_gbp, a.count_lines,
       s.share_of_total, s.share_left_out_gbp
from amounts a
join shares s using (council_id, reason)
join dim_councils c using (council_id)
order by c.sort_order, a.spend_gbp desc
