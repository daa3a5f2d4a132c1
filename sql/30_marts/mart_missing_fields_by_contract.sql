-- One row per contract register record and Transparency Code mandatory field it leaves blank. The
-- fields, their labels and when they apply live in data/reference/transparency_contract_fields.csv.
-- key: contract_id, field
create or replace view mart_missing_fields_by_contract as

with

contracts as (
    select * from mart_pipeline_by_contract
),

fields as (
    select field, label, applies_to, row_number() over () as field_order
    from ref_transparency_contract_fields
),

checks as (
    select
        contract_id,
        council_id,
        owner_name,
        covered_council_ids,
        contract_ref,
        contract_title,
        supplier_id,
        supplier_name,
        value_gbp,
        start_date,
        max_end_date,
        coalesce(is_sme, false) or coalesce(is_vcse, false) as is_sme_or_vcse,
        unnest([
            {'field': 'contract_title', 'is_blank': nullif(trim(contract_title), '') is null},
            {'field': 'description', 'is_blank': nullif(trim(description), '') is null},
            {'field': 'department', 'is_blank': nullif(trim(department), '') is null},
            {'field': 'supplier_name', 'is_blank': nullif(trim(supplier_name), '') is null},
            {'field': 'value_gbp', 'is_blank': value_gbp is null},
            {'field': 'start_date', 'is_blank': start_date is null},
            {'field': 'end_date', 'is_blank': end_date is null},
            {'field': 'review_date', 'is_blank': review_date is null},
            {'field': 'procurement_route', 'is_blank': nullif(trim(procurement_route), '') is null},
            {'field': 'is_sme', 'is_blank': is_sme is null},
            {'field': 'is_vcse', 'is_blank': is_vcse is null},
            {'field': 'registration_number', 'is_blank': company_number is null and charity_number is null}
        ], recursive := true)
    from contracts
)

select
    checks.* exclude (is_blank, is_sme_or_vcse),
    fields.label as field_label,
    fields.field_order
from checks
join fields using (field)
where checks.is_blank
    and (fields.applies_to = 'all' or (fields.applies_to = 'sme_or_vcse' and checks.is_sme_or_vcse))
