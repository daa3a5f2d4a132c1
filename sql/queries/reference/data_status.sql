-- data_status: Per council in scope: months of spend loaded, first and last month, the month its
-- spend is complete through, and a note: its partial latest month with the last payment in it,
-- or "No data loaded yet" for a council configured for spend that has sent none
-- (mart_loaded_by_council_dataset: the one definition of both).
select c.short_name as council, coalesce(l.months_loaded, 0) as months_loaded,
       l.first_month, l.last_month, l.complete_through,
       case when l.is_awaiting_first_file then 'No data loaded yet (configured, awaiting its first file)'
            when l.partial_month is not null
                then strftime(l.partial_month, '%b %Y') || ' partial'
                     || coalesce(': payments to ' || strftime(l.partial_last_date, '%-d %b %Y'), '')
            else '' end as note  -- nothing to note is not missing data
from dim_councils c
left join mart_loaded_by_council_dataset l on l.council_id = c.council_id and l.dataset = 'spend'
where in_scope(c.council_id, ?)
order by c.sort_order
