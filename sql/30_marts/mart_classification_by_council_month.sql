-- One row per council, month, addressable flag and source of the ProClass heading (published on
-- the line, taken from the supplier's other lines, or none): spend and lines.
-- key: council_id, month, is_addressable, category_source
create or replace table mart_classification_by_council_month as

select
    council_id,
    month,
    is_addressable,
    category_source,
    sum(amount_gbp) as spend_gbp,
    count(*) as count_lines
from fct_spend
group by all
