-- One row per OCDS release (a Find a Tender or Contracts Finder notice) of a configured council.
create or replace view stg_notices as

with

raw as (
    select * from raw_notices
)

select
    council_id,
    ocid,
    release_id,
    notice_type,
    release_date,
    coalesce(published_date, release_date) as published_date,
    string_split(nullif(tags, ''), ';') as tags,
    package_kind,
    buyer_name,
    title,
    value_amount,
    upper(coalesce(currency, 'GBP')) as currency,
    -- Money is GBP; a value in another currency is kept as published but not counted as pounds.
    case when upper(coalesce(currency, 'GBP')) = 'GBP' then value_amount end as value_gbp,
    regexp_extract(cpv_code, '^([0-9]{8})', 1) as cpv_code,
    procurement_method,
    contract_status,
    file_id,
    source_file,
    source_row
from raw
