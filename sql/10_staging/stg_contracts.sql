-- One row per contract of a council (or STAR), from the latest register snapshot that lists it.
create or replace view stg_contracts as

with

raw as (
    select * from raw_contracts
),

latest as (
    select *
    from raw
    qualify row_number() over (partition by council_id, contract_ref order by file_id desc, source_row) = 1
)

select
    council_id || ':' || contract_ref as contract_id,
    council_id,
    contract_ref,
    contract_title,
    description,
    department,
    supplier_name,
    supplier_key(supplier_name) as supplier_key,
    supplier_number(company_number, 'company') as company_number,
    supplier_number(charity_number, 'charity') as charity_number,
    supplier_number(vat_number, 'vat') as vat_number,
    nullif(upper(trim(supplier_postcode)), '') as supplier_postcode,
    value_gbp,
    annual_value_gbp,
    start_date,
    end_date,
    greatest(end_date, coalesce(max_end_date, end_date)) as max_end_date,
    review_date,
    procurement_route,
    is_sme,
    is_vcse,
    nullif(nullif(upper(trim(category_code)), 'NA'), '') as category_code,
    nullif(trim(category_label), '') as category_label,
    nullif(trim(category_manager), '') as category_manager,
    savings_gbp,
    case
        when covered_councils is null then [council_id]
        else list_transform(string_split(lower(covered_councils), ';'), lambda c: trim(c))
    end as covered_council_ids,
    case when sv_weighting > 1 then sv_weighting / 100 else sv_weighting end as sv_weighting_share,
    nullif(lower(trim(ocid)), '') as ocid,
    file_id,
    source_file,
    source_row
from latest
