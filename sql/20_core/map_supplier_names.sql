-- One row per supplier name as a council publishes it: the supplier it resolves to.
-- Order of evidence: reviewed aliases, a name cut at N characters joined to the one full name it
-- starts, then company / charity / VAT number (VAT only between similar names), then the
-- normalised name itself, spaces ignored.
-- Fuzzy matches are never applied here: they are suggestions for review.
create or replace table map_supplier_names as

with

spend_names as (
    -- distinct names first: the normalising macros then run once per name, not once per line
    select
        council_id, supplier_name, bool_or(is_name_truncated) as is_name_truncated,
        min(company_number) as company_number, min(vat_number) as vat_number
    from fct_spend_lines
    where supplier_name is not null
    group by council_id, supplier_name
),

names as (
    select
        council_id, supplier_name, supplier_key(supplier_name) as supplier_key,
        supplier_text(supplier_name) as supplier_text, is_name_truncated,
        company_number, vat_number, null::varchar as charity_number
    from spend_names

    union all by name

    select
        council_id, supplier_name, supplier_key, supplier_text(supplier_name) as supplier_text,
        false as is_name_truncated, company_number, vat_number, charity_number
    from stg_contracts
    where supplier_key <> ''

    union all by name

    -- suppliers in the councils' notices, with the Companies House numbers Find a Tender gives
    select
        council_id, supplier_name, supplier_key, supplier_text(supplier_name) as supplier_text,
        false as is_name_truncated, company_number, null::varchar as vat_number, null::varchar as charity_number
    from stg_notice_contracts
    where supplier_key <> ''
),

aliases as (
    select supplier_key(alias) as alias_key, supplier_key(canonical) as canonical_key
    from ref_supplier_aliases
    where alias is not null and canonical is not null
),

aliased as (
    select names.* replace (coalesce(aliases.canonical_key, names.supplier_key) as supplier_key)
    from names
    left join aliases on names.supplier_key = aliases.alias_key
),

full_names as (
    select distinct supplier_key, supplier_text from aliased where not is_name_truncated
),

untruncated as (
    select cut.supplier_key as cut_key, min(full_names.supplier_key) as full_key
    from (select distinct supplier_key, supplier_text from aliased where is_name_truncated) as cut
    join full_names on starts_with(full_names.supplier_text, cut.supplier_text)
    group by cut.supplier_key
    having count(distinct full_names.supplier_key) = 1
),

resolved as (
    select aliased.* replace (
        case when aliased.is_name_truncated then coalesce(untruncated.full_key, aliased.supplier_key)
             else aliased.supplier_key end as supplier_key
    )
    from aliased
    left join untruncated on aliased.supplier_key = untruncated.cut_key
),

vat_keys as (
    select distinct vat_number, supplier_key from resolved where vat_number is not null
),

usable_vat as (
    -- a VAT number joins names only when they plausibly are one business: at most three names,
    -- every two of them similar (supplier_names_similar). One VAT group registration covers
    -- different companies (G4S Cash Solutions and G4S Secure Solutions, BT and EE, a council and
    -- its schools): those pairs go to review with the shared number as evidence, never merged here
    select vat_number
    from vat_keys
    group by vat_number
    having count(*) <= 3
    except
    select a.vat_number
    from vat_keys as a
    join vat_keys as b on a.vat_number = b.vat_number and a.supplier_key < b.supplier_key
    where not supplier_names_similar(a.supplier_key, b.supplier_key)
),

key_ids as (
    select
        supplier_key,
        min(company_number) as company_number,
        min(charity_number) as charity_number,
        min(vat_number) filter (where vat_number in (select vat_number from usable_vat)) as vat_number
    from resolved
    group by supplier_key
),

grouped as (
    select
        supplier_key,
        coalesce('CO:' || company_number, 'CH:' || charity_number, 'VAT:' || vat_number,
                 'NM:' || replace(supplier_key, ' ', ''))
            as supplier_group
    from key_ids
)

select
    resolved.council_id,
    resolved.supplier_name,
    min(grouped.supplier_key) as supplier_key,
    min(grouped.supplier_group) as supplier_group,
    'S' || left(md5(min(grouped.supplier_group)), 10) as supplier_id
from resolved
join grouped using (supplier_key)
group by resolved.council_id, resolved.supplier_name
