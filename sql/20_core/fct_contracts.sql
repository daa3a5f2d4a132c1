-- One row per contract in a register (STAR collaborative contracts included), with its supplier,
-- ProClass heading, and whether a shared service let it. Its status depends on the day: queries
-- compute it (contract_status macro).
create or replace view fct_contracts as

with

contracts as (
    select * from stg_contracts
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
