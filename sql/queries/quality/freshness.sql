-- freshness: Per council and dataset: the latest file loaded, the last date it covers, when it
-- arrived, and how old the data is; spend from a council whose latest lines give only the month
-- ("Sep 2014") has date_precision 'month', and its age is told in months. Notices (Find a Tender
-- files hold any buyer's) are per council from the notices themselves: the latest published, the
-- file it came in, and its age from that publication day.
with monthly as (
    select dataset, bool_or(is_expected) as is_monthly from mart_coverage_by_council_month group by dataset
),
precision as (
    select council_id, 'spend' as dataset, arg_max(date_precision, payment_date) as date_precision
    from fct_spend
    group by council_id
),
files as (
    select c.short_name as council, c.sort_order, f.dataset, any_value(f.council_id) as council_id,
           arg_max(f.file_name, (f.is_latest, f.last_date, f.received_at)) as latest_file,
           max(f.last_date) filter (where f.status = 'loaded') as last_date,
           arg_max(f.received_at, (f.is_latest, f.last_date, f.received_at)) as received_at,
           count(*) filter (where f.status = 'loaded') as count_files,
           count(*) filter (where f.status = 'failed') as count_failed,
           sum(f.rows_loaded) as rows_loaded,
           false as ages_from_last_date
    from mart_rows_by_file f
    join dim_councils c using (council_id)
    where in_scope_or_shared(f.council_id, ?, ?)
      and f.dataset <> 'notices'
    group by c.short_name, c.sort_order, f.dataset
),
notices as (
    select c.short_name as council, c.sort_order, 'notices' as dataset, n.council_id,
           arg_max(f.file_name, (n.published_date, n.file_id)) as latest_file,
           max(n.published_date) as last_date,
           arg_max(f.received_at, (n.published_date, n.file_id)) as received_at,
           count(distinct n.source_file) as count_files,
           (select count(*) from mart_rows_by_file x
            where x.dataset = 'notices' and x.status = 'failed' and x.council_id = n.council_id) as count_failed,
           count(*) as rows_loaded,
           true as ages_from_last_date
    from fct_notices n
    join dim_councils c using (council_id)
    left join mart_rows_by_file f on f.file_id = n.file_id and f.source_file = n.source_file
    where in_scope(n.council_id, ?)
    group by c.short_name, c.sort_order, n.council_id
),
latest as (
    select * from files
    union all by name
    select * from notices
),
aged as (
    select latest.*,
           case when latest.ages_from_last_date then latest.last_date
                when coalesce(monthly.is_monthly, false) then last_day(latest.last_date)
                else latest.received_at::date end as aged_from
    from latest
    left join monthly using (dataset)
)
select aged.* exclude (sort_order, council_id, ages_from_last_date, aged_from),
       coalesce(precision.date_precision, 'day') as date_precision,
       greatest(0, date_diff('day', aged.aged_from, ?::date)) as days_old,
       coalesce(date_diff('day', aged.aged_from, ?::date) > ?, true) as is_stale
from aged
left join precision on precision.council_id = aged.council_id and precision.dataset = aged.dataset
order by aged.sort_order, aged.dataset
