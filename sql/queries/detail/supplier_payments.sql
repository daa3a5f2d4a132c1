-- supplier_payments: The latest payment lines to a supplier in the period; ``None`` for a role
-- without line detail.
select councils.short_name as council, lines.payment_date, lines.amount_gbp, lines.is_on_contract,
       lines.contract_id, lines.department, lines.purpose, lines.transaction_number,
       lines.source_file, lines.source_row
from mart_supplier_payments_by_line as lines
join dim_councils as councils using (council_id)
where lines.supplier_id = $supplier_id and in_scope(lines.council_id, $ids)
  and lines.payment_date between $date_from and $date_to and (lines.is_addressable or not $addressable)
  and not lines.is_redacted
order by lines.payment_date desc, lines.amount_gbp desc
limit $limit
