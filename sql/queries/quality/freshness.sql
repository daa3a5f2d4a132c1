-- freshness: Per council and dataset: the latest file loaded, the last date it covers, when it
-- arrived, and how old the data is; spend from a council whose latest lines give only the month
-- ("Sep 2014") has date_precision 'month', and its age is told in months.
with monthly as (
    select dataset, bool_or(is_expected) as is_monthly from mart_coverage_by_council_month group by dataset
),
precision as (
    select council_id, 'spend' as dataset, arg_max(date_precision, payment_date) as date_precision
    from fct_spend
    group by council_id
),
latest as (
    select c.short_name as council, c.sort_order, f.dataset, any_value(f.council_id) as council_id,
           arg_max(f.file_name, (f.is_latest, f.last_date, f.received_at)) as latest_file,
           max(f.last_date) filter (where f.status = 'loaded') as last_date,
           arg_max(f.received_at, (f.is_latest, f.last_date, f.received_at)) as received_at,
           count(*) filter (where f.status = 'loaded') as count_files,
           count(*) filter (where f.status = 'failed') as count_failed,
           sum(f.rows_loaded) as rows_loaded
    from mart_rows_by_file f
    join dim_councils c using (council_id)
    where in_scope_or_shared(f.council_id, ?, ?)
    group by c.short_name, c.sort_order, f.dataset
)
select latest.* exclude (sort_order, council_id),
       coalesce(precision.date_precision, 'day') as date_precision,
       greatest(0, date_diff('day', case when coalesce(monthly.is_monthly, false) then last_day(latest.last_date)
                             else latest.received_at::date end, ?::date)) as days_old,
       coalesce(date_diff('day', case when coalesce(monthly.is_monthly, false) then last_day(latest.last_date)
                                      else latest.received_at::date end, ?::date) > ?, true) as is_stale
from latest
left join monthly using (dataset)
left join precision on precision.council_id = latest.council_id and precision.dataset = latest.dataset
order by latest.sort_order, latest.dataset
