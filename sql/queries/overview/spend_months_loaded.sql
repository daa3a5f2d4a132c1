-- spend_months_loaded: Per council in scope configured for spend: each month of spend loaded
-- within the plausible window, and whether it is partial (mart_coverage_by_council_month holds the
-- one definition), with the council's complete-through month and partial month; a council that has
-- sent none yet has one row with a null month.
select c.short_name as council, l.complete_through, l.partial_month, l.partial_last_date,
       m.month, coalesce(m.is_partial, false) as is_partial
from mart_loaded_by_council_dataset l
join dim_councils c using (council_id)
left join mart_coverage_by_council_month m
    on m.council_id = l.council_id and m.dataset = 'spend' and m.count_rows > 0 and m.month between ? and ?
where l.dataset = 'spend' and in_scope(l.council_id, ?)
order by c.sort_order, m.month
