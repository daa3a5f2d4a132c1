-- One row per contract in a council's notices that is a contract of its register: the register
-- contract it is, and why (the same OCID; else the same reference; else the same supplier, by
-- Companies House number or name, with the value and both dates within the tolerances in
-- cfg_thresholds). A register contract takes at most one notice contract per supplier.
create or replace view map_contract_notices as

with

notices as (
    select * from stg_notice_contracts
),

register as (
    select * from stg_contracts
),

tolerance as (
    select
        max(value) filter (where name = 'notice_match_value_share') as value_share,
        max(value) filter (where name = 'notice_match_days')::integer as days
    from cfg_thresholds
),

candidates as (
    select notices.notice_contract_id, register.contract_id, 1 as rule_rank, 'OCID' as match_rule
    from notices
    join register on register.council_id = notices.council_id and register.ocid = lower(notices.ocid)

    union all

    select notices.notice_contract_id, register.contract_id, 2 as rule_rank, 'reference' as match_rule
    from notices
    join register
        on register.council_id = notices.council_id
        and upper(trim(register.contract_ref)) in (
            upper(notices.contract_ref), upper(notices.award_id), upper(notices.tender_ref)
        )

    union all

    select notices.notice_contract_id, register.contract_id, 3 as rule_rank, 'supplier, value and dates' as match_rule
    from notices
    cross join tolerance
    join register
        on register.council_id = notices.council_id
        and (register.company_number = notices.company_number or register.supplier_key = notices.supplier_key)
        and abs(register.value_gbp - notices.value_gbp) <= tolerance.value_share * greatest(abs(register.value_gbp), 1)
        and abs(date_diff('day', register.start_date, notices.start_date)) <= tolerance.days
        and abs(date_diff('day', register.end_date, notices.end_date)) <= tolerance.days
),

best as (
    select *
    from candidates
    qualify row_number() over (partition by notice_contract_id order by rule_rank, contract_id) = 1
)

select best.*, notices.council_id, notices.ocid, notices.company_number, notices.supplier_key
from best
join notices using (notice_contract_id)
qualify row_number() over (partition by best.contract_id, notices.supplier_key order by best.rule_rank, best.notice_contract_id) = 1
