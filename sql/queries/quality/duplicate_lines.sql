-- duplicate_lines: Likely duplicate spend lines across files (same council, transaction number,
-- date and amount), largest amounts first, at most `limit`.
select
    c.short_name as council,
    d.transaction_number,
    d.payment_date,
    d.amount_gbp,
    d.count_files,
    d.count_lines,
    array_to_string(d.source_rows, '; ') as source_rows
from mart_duplicate_spend_lines as d
join dim_councils as c using (council_id)
where in_scope_or_shared(d.council_id, ?, ?)
order by abs(d.amount_gbp) desc, c.sort_order, d.transaction_number
limit ?
