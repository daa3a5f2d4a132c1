-- One row per spend line as published, with the council's rules applied: a redacted payment
-- (its name one of the council's redaction markers, or its redaction column saying so) is flagged,
-- personal or commercial, and its payee hidden; a name as long as the council's ledger cuts names
-- is flagged as possibly cut short. fct_spend, map_supplier_names and dim_suppliers read it.
create or replace view fct_spend_lines as

with

spend as (
    select * from stg_spend
),

settings as (
    select council_id, truncates_names_at, redaction_markers, redaction_column_values
    from cfg_datasets
    where dataset = 'spend'
),

flagged as (
    select
        spend.*,
        settings.truncates_names_at,
        coalesce(
            list_contains(list_transform(settings.redaction_markers, lambda m: upper(m)), upper(spend.supplier_name))
            or list_contains(list_transform(settings.redaction_column_values, lambda m: upper(m)), upper(spend.redaction))
            or upper(coalesce(spend.supplier_name, '')) like 'REDACTED%',
            false
        ) as is_redacted
    from spend
    left join settings using (council_id)
)

select
    line_id,
    council_id,
    payment_date,
    date_precision,
    amount_gbp,
    case when is_redacted then null else supplier_name end as supplier_name,
    case when is_redacted then null else supplier_key(supplier_name) end as supplier_key,
    coalesce(truncates_names_at is not null and length(supplier_name) >= truncates_names_at, false)
        as is_name_truncated,
    vat_number,
    company_number,
    supplier_ref,
    department,
    expense_type,
    purpose,
    category_code,
    category_label,
    transaction_number,
    invoice_number,
    irrecoverable_vat_gbp,
    is_redacted,
    case
        when not is_redacted then null
        when upper(supplier_name) like '%COMMERCIAL%' then 'commercial'
        else 'personal'
    end as redaction_kind,
    file_id,
    source_file,
    source_row
from flagged
