-- freshness: Per council and dataset: the latest file loaded, the last date it covers, when it
-- arrived, and how old the data is.
with monthly as (
    select dataset, bool_or(is_expected) as is_monthly from mart_coverage_by_council_month group by dataset
),
latest as (
    select c.short_name as council, c.sort_order, f.dataset,
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
select latest.* exclude (sort_order),
       greatest(0, date_diff('day', case when coalesce(monthly.is_monthly, false) then last_day(latest.last_date)
                             else latest.received_at::date end, ?::date)) as days_old,
       coalesce(date_diff('day', case when coalesce(monthly.is_monthly, false) then last_day(latest.last_date)
                                      else latest.received_at::date end, ?::date) > ?, true) as is_stale
from latest
left join monthly using (dataset)
order by latest.sort_order, latest.dataset
