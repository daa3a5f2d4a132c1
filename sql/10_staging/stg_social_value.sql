-- One row per social value measure record (committed at award or delivered in a period).
create or replace view stg_social_value as

select
    council_id,
    council_id || ':' || contract_ref as contract_id,
    contract_ref,
    upper(trim(measure_code)) as measure_code,
    theme,
    measure,
    unit,
    case when lower(record_type) like 'commit%' then 'committed'
         when lower(record_type) like 'deliver%' then 'delivered'
         else lower(record_type) end as record_type,
    period_date,
    quantity,
    proxy_value_gbp,
    round(quantity * proxy_value_gbp, 2)::decimal(18,2) as value_gbp,
    is_local,
    source_file,
    source_row
from raw_social_value
