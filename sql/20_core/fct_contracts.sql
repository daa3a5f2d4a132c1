-- One row per contract: every register contract (STAR collaborative contracts included), and each
-- contract found only in a council's Find a Tender / Contracts Finder notices; with its supplier,
-- ProClass heading, whether a shared service let it, and source (register, notices or both). Its
-- status depends on the day: queries compute it (contract_status macro).
create or replace view fct_contracts as

with

register as (
    select * from stg_contracts
),

notices as (
    select * from stg_notice_contracts
),

matches as (
    select * from map_contract_notices
),

register_contracts as (
    -- a register contract with its notices: OCID and Companies House number from them where it has none
    select
        register.* replace (
            coalesce(register.ocid, matched.ocid) as ocid,
            coalesce(register.company_number, matched.company_number) as company_number
        ),
        case when matched.contract_id is null then 'register' else 'both' end as source
    from register
    left join (
        select contract_id, min(lower(ocid)) as ocid, min(company_number) as company_number
        from matches
        group by contract_id
    ) as matched using (contract_id)
),

notice_contracts as (
    -- awarded contracts in notices that no register lists (a value and a term are needed to be one)
    select
        notices.notice_contract_id as contract_id,
        notices.council_id,
        coalesce(notices.contract_ref, notices.ocid) as contract_ref,
        notices.contract_title,
        notices.description,
        null::varchar as department,
        notices.supplier_name,
        notices.supplier_key,
        notices.company_number,
        null::varchar as charity_number,
        null::varchar as vat_number,
        notices.supplier_postcode,
        notices.value_gbp::decimal(18, 2) as value_gbp,
        null::decimal(18, 2) as annual_value_gbp,
        notices.start_date,
        notices.end_date,
        notices.max_end_date,
        null::date as review_date,
        notices.procurement_method as procurement_route,
        null::boolean as is_sme,
        null::boolean as is_vcse,
        null::varchar as category_code,
        null::varchar as category_label,
        null::varchar as category_manager,
        null::decimal(18, 2) as savings_gbp,
        [notices.council_id] as covered_council_ids,
        null::double as sv_weighting_share,
        lower(notices.ocid) as ocid,
        notices.file_id,
        notices.source_file,
        notices.source_row,
        'notices' as source
    from notices
    anti join matches using (notice_contract_id)
    where notices.value_gbp is not null
        and notices.start_date is not null
        and notices.end_date is not null
        and coalesce(notices.status, '') not in ('pending', 'cancelled', 'unsuccessful')
),

contracts as (
    select * from register_contracts
    union all by name
    select * from notice_contracts
),

names as (
    select * from map_supplier_names
),

proclass as (
    select code_prefix, heading from ref_proclass
),

councils as (
    select council_id, kind from cfg_councils
)

select
    contracts.*,
    names.supplier_id,
    coalesce(by_label.heading, by_prefix.heading, by_code.heading, 'Not classified') as category,
    contracts.max_end_date > contracts.end_date as has_extension_option,
    -- a contract let by a shared service (STAR) for its partner councils
    coalesce(councils.kind = 'shared_service', false) as is_collaborative
from contracts
left join names using (council_id, supplier_name)
left join councils using (council_id)
left join proclass as by_label on upper(by_label.heading) = upper(contracts.category_label)
left join proclass as by_prefix
    on upper(by_prefix.heading) = upper(trim(split_part(contracts.category_label, ':', 1)))
left join proclass as by_code on by_code.code_prefix = left(contracts.category_code, 2)
