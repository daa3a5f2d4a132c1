-- cube_supplier_profile: One supplier as the user's councils know it: name, identifiers,
-- local/SME/VCSE flags (None is unknown), spend and lines to date, councils paying it, live
-- contracts on the day given (contract_status macro), any exclusion from addressable spend.
with
paid as (
    select
        sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines,
        count(distinct council_id) filter (where count_lines > 0) as count_councils,
        min(first_month) as first_month, max(last_month) as last_month,
        count(distinct supplier_name) as count_name_variants
    from mart_spend_by_supplier_name
    where supplier_id = ? and in_scope(council_id, ?)
),
contracts as (
    select count(distinct contract_id) as count_contracts,
           count(distinct contract_id) filter (
               where contract_status(start_date, end_date, max_end_date, ?) in ('live', 'in extension'))
               as count_live_contracts
    from mart_contracts_by_supplier_council
    where supplier_id = ? and in_scope(council_id, ?)
)
select d.supplier_id, d.supplier_name, d.company_number, d.charity_number, d.vat_number,
       d.postcode_district, d.is_local, d.is_sme, d.is_vcse,
       paid.*, contracts.count_contracts, contracts.count_live_contracts
from dim_suppliers d, paid, contracts
where d.supplier_id = ? and (paid.count_lines > 0 or contracts.count_contracts > 0)
