-- exclusions_by_reason: Per council and reason: the net spend left out of addressable spend in the
-- period, and its share of all the council's spend under the one share rule (known_share: credits
-- netted against the same supplier with the same flags in the period, a supplier netting to nothing
-- or less left out of both parts and counted in share_left_out_gbp, the council's figure on each of
-- its rows), so a share lies between 0 and 1; null ("no data") where nothing is left to count.
with nets as (
    select council_id, supplier_id, is_addressable, exclusion_reason,
           sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines
    from mart_classification_by_supplier_month
    where in_scope(council_id, ?) and month between ? and ?
    group by all
),
reasons as (select distinct council_id, exclusion_reason as reason from nets where not is_addressable),
pairs as (  -- each reason against all of its council's nets
    select r.council_id, r.reason, n.spend_gbp, n.count_lines,
           not n.is_addressable and n.exclusion_reason is not distinct from r.reason as is_excluded
    from reasons r
    join nets n using (council_id)
)
select c.short_name as council, p.reason as exclusion_reason,
       sum(p.spend_gbp) filter (where p.is_excluded) as spend_gbp,
       sum(p.count_lines) filter (where p.is_excluded) as count_lines,
       known_share(p.is_excluded, p.spend_gbp) as share_of_total,
       -share_left_out(p.spend_gbp) as share_left_out_gbp
from pairs p
join dim_councils c using (council_id)
group by c.short_name, c.sort_order, p.reason
order by c.sort_order, spend_gbp desc
