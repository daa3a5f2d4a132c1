-- One row per supplier (after normalisation): display name, the name variants merged into it,
-- identifiers, and local/SME/VCSE flags from the contracts registers (unknown stays unknown).
create or replace table dim_suppliers as

with

names as (
    select * from map_supplier_names
),

spend as (
    select council_id, supplier_name, bool_or(is_name_truncated) as is_name_truncated,
           sum(amount_gbp) as spend_gbp
    from fct_spend_lines
    where supplier_name is not null
    group by all
),

variants as (
    select
        names.supplier_id,
        names.supplier_name,
        names.council_id,
        coalesce(spend.is_name_truncated, false) as is_name_truncated,
        coalesce(spend.spend_gbp, 0) as spend_gbp
    from names
    left join spend using (council_id, supplier_name)
),

register as (
    select
        names.supplier_id,
        arg_max(contracts.supplier_postcode, contracts.start_date) filter (where contracts.supplier_postcode is not null)
            as postcode,
        arg_max(contracts.is_sme, contracts.start_date) filter (where contracts.is_sme is not null) as is_sme,
        arg_max(contracts.is_vcse, contracts.start_date) filter (where contracts.is_vcse is not null) as is_vcse,
        min(contracts.company_number) as company_number,
        min(contracts.charity_number) as charity_number,
        min(contracts.vat_number) as vat_number
    from stg_contracts as contracts
    join names using (council_id, supplier_name)
    group by names.supplier_id
),

ledger_ids as (
    select names.supplier_id, min(s.company_number) as company_number, min(s.vat_number) as vat_number
    from fct_spend_lines as s
    join names using (council_id, supplier_name)
    group by names.supplier_id
),

districts as (
    select district, status from ref_gm_postcode_districts
),

suppliers as (
    select
        supplier_id,
        arg_max(supplier_name, (not is_name_truncated, spend_gbp, supplier_name)) as supplier_name,
        list(distinct supplier_name order by supplier_name) as name_variants,
        count(distinct supplier_name) as count_name_variants,
        count(distinct council_id) filter (where council_id <> 'star') as count_councils
    from variants
    group by supplier_id
)

select
    suppliers.supplier_id,
    suppliers.supplier_name,
    suppliers.name_variants,
    suppliers.count_name_variants,
    suppliers.count_councils,
    coalesce(register.company_number, ledger_ids.company_number) as company_number,
    register.charity_number,
    coalesce(register.vat_number, ledger_ids.vat_number) as vat_number,
    register.postcode,
    postcode_district(register.postcode) as postcode_district,
    case
        when postcode_district(register.postcode) is null then null
        when d_exact.status = 'local' or (d_area.status = 'local') then true
        when d_exact.status = 'partial' then null
        else false
    end as is_local,
    register.is_sme,
    register.is_vcse
from suppliers
left join register using (supplier_id)
left join ledger_ids using (supplier_id)
left join districts as d_exact on d_exact.district = postcode_district(register.postcode)
left join districts as d_area
    on d_area.district = regexp_extract(postcode_district(register.postcode), '^([A-Z]+)', 1)
