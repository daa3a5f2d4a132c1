-- One row per contract (a STAR collaborative contract once, with the councils it covers): owner,
-- supplier, category (and the register's sub-category), manager, and the procurement route in canonical form (see
-- data/reference/procurement_routes.csv; null when unrecognised). Everything relative to today
-- (due date, bucket, start-by date, RAG) is worked out in starviz/queries.py from an explicit date.
-- A table: most collaboration and pipeline questions start here, and the register view costs tens
-- of milliseconds to read (supplier names are normalised on the way).
-- key: contract_id
create or replace table mart_pipeline_by_contract as

with

contracts as (
    select * from fct_contracts
),

routes as (
    select alias, route from ref_procurement_routes
),

owners as (
    select council_id, short_name as owner_name, sort_order as owner_order from dim_councils
),

covered as (
    -- who a STAR collaborative contract is for, in display order
    select contract_id, string_agg(councils.short_name, ', ' order by councils.sort_order) as covered_names
    from (select contract_id, unnest(covered_council_ids) as council_id from contracts)
    join dim_councils as councils using (council_id)
    group by contract_id
)

select
    contracts.contract_id,
    contracts.council_id,
    owners.owner_name,
    owners.owner_order,
    case when contracts.is_collaborative then owners.owner_name || ' (' || covered.covered_names || ')'
         else owners.owner_name end as owner_label,
    contracts.covered_council_ids,
    contracts.is_collaborative,
    contracts.contract_ref,
    contracts.contract_title,
    contracts.description,
    contracts.department,
    contracts.supplier_id,
    contracts.supplier_name,
    contracts.category,
    -- the register's own second-level label ("SOCIAL CARE: Residential Care"), where it has one
    case when contains(contracts.category_label, ':')
         then nullif(trim(split_part(contracts.category_label, ':', 2)), '') end as subcategory,
    contracts.category_manager,
    contracts.procurement_route,
    routes.route,
    contracts.value_gbp::double as value_gbp,
    contracts.annual_value_gbp::double as annual_value_gbp,
    contracts.start_date,
    contracts.end_date,
    contracts.max_end_date,
    contracts.review_date,
    contracts.has_extension_option,
    contracts.is_sme,
    contracts.is_vcse,
    contracts.company_number,
    contracts.charity_number,
    contracts.source_file,
    contracts.source_row
from contracts
left join routes
    on routes.alias = trim(regexp_replace(lower(contracts.procurement_route), '[^a-z0-9]+', ' ', 'g'))
left join owners using (council_id)
left join covered using (contract_id)
