-- One row per spend line as loaded: renamed and cast, identifiers and categories tidied. The
-- council's rules (redaction, names cut short by a ledger) are applied in core (fct_spend_lines).
create or replace view stg_spend as

with

raw as (
    select * from raw_spend
)

select
    council_id::varchar || '-' || file_id::varchar || '-' || source_row::varchar as line_id,
    council_id,
    payment_date,
    -- 'month' when the file gives only the month ("Sep 2014", kept as its 1st), else 'day'
    coalesce(payment_date_precision, 'day') as date_precision,
    amount_gbp,
    supplier_name,
    redaction,
    supplier_number(vat_number, 'vat') as vat_number,
    supplier_number(company_number, 'company') as company_number,
    supplier_ref,
    department,
    expense_type,
    purpose,
    nullif(nullif(upper(trim(category_code)), 'NA'), '') as category_code,
    case when upper(trim(category_label)) in ('NOT CLASSIFIED', 'NCLASS', 'NA', 'N/A', '') then null
         else trim(category_label) end as category_label,
    transaction_number,
    invoice_number,
    irrecoverable_vat_gbp,
    file_id,
    source_file,
    source_row
from raw
