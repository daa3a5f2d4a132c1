-- One row per spend line as loaded: names cleaned, identifiers tidied, redaction flagged.
create or replace view stg_spend as

with

raw as (
    select * from raw_spend
),

settings as (
    select council_id, truncates_names_at, redaction_markers, redaction_column_values
    from cfg_datasets
    where dataset = 'spend'
),

flagged as (
    select
        raw.*,
        settings.truncates_names_at,
        coalesce(
            list_contains(list_transform(settings.redaction_markers, lambda m: upper(m)), upper(raw.supplier_name))
            or list_contains(list_transform(settings.redaction_column_values, lambda m: upper(m)), upper(raw.redaction))
            or upper(coalesce(raw.supplier_name, '')) like 'REDACTED%',
            false
        ) as is_redacted
    from raw
    left join settings using (council_id)
)

select
    council_id::varchar || '-' || file_id::varchar || '-' || source_row::varchar as line_id,
    council_id,
    payment_date,
    amount_gbp,
    case when is_redacted then null else supplier_name end as supplier_name,
    case when is_redacted then null else supplier_key(supplier_name) end as supplier_key,
    coalesce(truncates_names_at is not null and length(supplier_name) >= truncates_names_at, false)
        as is_name_truncated,
    nullif(regexp_replace(upper(vat_number), '[^A-Z0-9]', '', 'g'), '') as vat_number,
    nullif(lpad(regexp_replace(upper(company_number), '[^A-Z0-9]', '', 'g'), 8, '0'), '00000000')
        as company_number,
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
