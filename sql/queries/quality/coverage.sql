-- coverage: Rows loaded per council per month of one dataset in the period, missing months flagged,
-- a partial latest month with its last payment (the mart's one definition) and a note in the words of
-- the overview's Data loaded table (reference/data_status.sql): "Apr 2025 partial: payments to 7 Apr 2025".
select c.short_name as council, m.month, m.count_rows, m.count_files, m.is_expected, m.is_missing,
       m.is_partial, m.last_date as last_payment,
       case when m.is_partial
                then strftime(m.month, '%b %Y') || ' partial'
                     || coalesce(': payments to ' || strftime(m.last_date, '%-d %b %Y'), '')
            when m.is_missing then 'missing'
            else '' end as note
from mart_coverage_by_council_month m
join dim_councils c using (council_id)
where in_scope_or_shared(m.council_id, ?, ?)
  and m.dataset = ? and m.month between ? and ?
order by c.sort_order, m.month
