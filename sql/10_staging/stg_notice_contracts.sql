-- One row per contract (or award not yet a contract) and supplier in a council's notices, from the
-- latest state of its contracting process (OCDS releases compiled by the merge rules).
create or replace view stg_notice_contracts as

with

raw as (
    select * from raw_notice_contracts
)

select
    council_id || ':' || ocid || ':' || coalesce(contract_ref, award_id, '') || ':'
        || coalesce(supplier_party_id, supplier_name, '') as notice_contract_id,
    council_id,
    ocid,
    award_id,
    contract_ref,
    tender_ref,
    contract_title,
    description,
    status,
    supplier_name,
    supplier_key(supplier_name) as supplier_key,
    supplier_party_id,
    company_number,
    supplier_ppon,
    nullif(upper(trim(supplier_postcode)), '') as supplier_postcode,
    supplier_count,
    case when upper(coalesce(currency, 'GBP')) = 'GBP' then value_amount end as value_gbp,
    start_date,
    end_date,
    greatest(end_date, coalesce(max_end_date, end_date)) as max_end_date,
    award_date,
    date_signed,
    regexp_extract(cpv_code, '^([0-9]{8})', 1) as cpv_code,
    procurement_method,
    file_id,
    source_file,
    source_row
from raw
