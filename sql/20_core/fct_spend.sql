-- One row per spend line: supplier resolved, ProClass heading, addressable or why not, on or off
-- contract (the council's own contract or a STAR one covering it, live on the payment date,
-- extensions included; unknown, null, for a council with no contracts of its own loaded), and the
-- supplier's local/SME/VCSE flags (unknown stays null). A table: every page reads it.
-- The ProClass heading comes from the first tier that has one, and category_source keeps which:
-- 'published' (the council's own code or label on the line), 'supplier' (the heading most of the
-- supplier's categorised lines carry, any council), 'expense type' (the council's expense-type
-- mapping), else 'none'.
create or replace table fct_spend as

with

spend as (
    select * from fct_spend_lines
),

names as (
    select council_id, supplier_name, supplier_id, supplier_key from map_supplier_names
),

suppliers as (
    select supplier_id, is_local, is_sme, is_vcse from dim_suppliers
),

proclass as (
    select code_prefix, heading from ref_proclass
),

council_names as (
    select distinct supplier_key(unnest(name_aliases)) as supplier_key from cfg_councils
),

keys as (
    select distinct supplier_key from names
),

key_exclusions as (
    -- the reviewed rules (exclusion_reason macro, from data/reference/exclusions.csv) once per
    -- name; a partner council's own names (and those names cut short by a ledger) are inter-authority
    select
        supplier_key,
        case
            when supplier_key in (select supplier_key from council_names) then 'inter-authority'
            when length(supplier_key) >= 20 and exists (
                select 1 from council_names where starts_with(council_names.supplier_key, keys.supplier_key)
            ) then 'inter-authority'
            else exclusion_reason(supplier_key, null)
        end as exclusion_reason,
        exclusion_needs_text(supplier_key) as needs_line_text
    from keys
),

labelled as (
    select
        spend.*,
        names.supplier_id,
        coalesce(by_label.heading, by_prefix.heading, by_code.heading) as published_category,
        case when contains(spend.category_label, ':')
             then nullif(trim(split_part(spend.category_label, ':', 2)), '') end as category_l2,
        case when spend.is_redacted and spend.redaction_kind = 'personal' then 'redacted personal data'
             -- a few rules also read the line (the Environment Agency's flood defence levy)
             when key_exclusions.needs_line_text and key_exclusions.exclusion_reason is null then exclusion_reason(
                 names.supplier_key, concat_ws(' | ', spend.department, spend.expense_type, spend.purpose))
             else key_exclusions.exclusion_reason end as exclusion_reason
    from spend
    left join names using (council_id, supplier_name)
    left join key_exclusions on key_exclusions.supplier_key = names.supplier_key
    left join proclass as by_label on upper(by_label.heading) = upper(spend.category_label)
    left join proclass as by_prefix
        on upper(by_prefix.heading) = upper(trim(split_part(spend.category_label, ':', 1)))
    left join proclass as by_code on by_code.code_prefix = left(spend.category_code, 2)
),

expense_types as (
    -- the council's own expense types mapped to a ProClass heading (data/reference/
    -- expense_type_categories.csv); a blank department or expense type means any
    select upper(trim(council_id)) as council_id, upper(trim(department)) as department,
           upper(trim(expense_type)) as expense_type, heading
    from ref_expense_type_categories
),

by_expense_type as (
    select distinct on (lines.council_id, lines.department, lines.expense_type)
        lines.council_id, lines.department, lines.expense_type, expense_types.heading
    from (select distinct council_id, department, expense_type from stg_spend) as lines
    join expense_types
        on expense_types.council_id = upper(lines.council_id)
        and (expense_types.department is null or expense_types.department = upper(trim(lines.department)))
        and (expense_types.expense_type is null or expense_types.expense_type = upper(trim(lines.expense_type)))
    -- the most specific row wins: department and expense type, then either
    order by lines.council_id, lines.department, lines.expense_type,
        (expense_types.department is null)::int + (expense_types.expense_type is null)::int
),

supplier_category as (
    select supplier_id, arg_max(published_category, total) as category
    from (
        select supplier_id, published_category, sum(abs(amount_gbp)) as total
        from labelled
        where supplier_id is not null and published_category is not null
        group by all
    )
    group by supplier_id
),

cover as (
    select
        contract_id,
        unnest(covered_council_ids) as council_id,
        supplier_id,
        start_date,
        max_end_date,
        is_collaborative
    from fct_contracts
    where supplier_id is not null
),

payments as (
    -- contracts are matched once per council, supplier and day, not once per line
    select distinct council_id, supplier_id, payment_date
    from labelled
    where supplier_id is not null
),

registers as (
    -- councils with contracts of their own loaded (register or notices): on/off contract is known
    select distinct council_id from fct_contracts
),

matched as (
    select
        payments.council_id,
        payments.supplier_id,
        payments.payment_date,
        first(cover.contract_id order by cover.is_collaborative, cover.start_date desc, cover.contract_id)
            as contract_id
    from payments
    join cover
        on cover.council_id = payments.council_id
        and cover.supplier_id = payments.supplier_id
        and payments.payment_date between cover.start_date and cover.max_end_date
    group by all
)

select
    labelled.line_id,
    labelled.council_id,
    labelled.payment_date,
    labelled.date_precision,
    date_trunc('month', labelled.payment_date)::date as month,
    financial_year(labelled.payment_date) as financial_year,
    labelled.amount_gbp,
    labelled.amount_gbp < 0 as is_credit,
    labelled.supplier_id,
    labelled.supplier_name,
    coalesce(labelled.published_category, supplier_category.category, by_expense_type.heading, 'Not classified')
        as category,
    labelled.category_l2,
    case when labelled.published_category is not null then 'published'
         when supplier_category.category is not null then 'supplier'
         when by_expense_type.heading is not null then 'expense type'
         else 'none' end as category_source,
    labelled.department,
    labelled.expense_type,
    labelled.purpose,
    labelled.transaction_number,
    labelled.is_redacted,
    labelled.redaction_kind,
    labelled.exclusion_reason is null as is_addressable,
    labelled.exclusion_reason,
    case when registers.council_id is not null then matched.contract_id is not null end as is_on_contract,
    matched.contract_id,
    suppliers.is_local,
    suppliers.is_sme,
    suppliers.is_vcse,
    labelled.file_id,
    labelled.source_file,
    labelled.source_row
from labelled
left join supplier_category using (supplier_id)
left join by_expense_type using (council_id, department, expense_type)
left join matched using (council_id, supplier_id, payment_date)
left join registers using (council_id)
left join suppliers using (supplier_id)
order by labelled.council_id, labelled.payment_date
