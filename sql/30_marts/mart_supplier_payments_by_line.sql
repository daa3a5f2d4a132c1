-- One row per spend line paid to a named supplier (redacted payments have none): the line detail
-- behind the split-order report and a supplier's payments. Queries check the role before reading it.
-- key: line_id
create or replace view mart_supplier_payments_by_line as

select
    line_id,
    council_id,
    supplier_id,
    supplier_name,
    category,
    payment_date,
    date_precision,
    month,
    amount_gbp::double as amount_gbp,
    is_addressable,
    is_on_contract,
    contract_id,
    is_redacted,
    department,
    purpose,
    transaction_number,
    source_file,
    source_row
from fct_spend
where supplier_id is not null
