-- One row per council, month, supplier (null: redacted payees, together), addressable flag, exclusion
-- reason and source of the ProClass heading (published on the line, taken from the supplier's other
-- lines or the council's expense type, or none): the month's net spend and lines. What the data
-- quality page's shares of spend are of: netted again per supplier over a period, they follow the one
-- share rule (the `known_share` macros, sql/00_functions), as the share basis does for the flags.
-- key: council_id, month, supplier_id?, is_addressable, exclusion_reason?, category_source
create or replace table mart_classification_by_supplier_month as

select
    council_id,
    month,
    supplier_id,
    is_addressable,
    exclusion_reason,
    category_source,
    sum(amount_gbp) as spend_gbp,
    count(*) as count_lines
from fct_spend
group by all
order by month, council_id, supplier_id
