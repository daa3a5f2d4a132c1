-- missing_months: Per council and dataset: the expected months in the period with no rows at all, as runs;
-- and, once, each dataset a council is configured for but has sent nothing of yet ("no data loaded
-- yet": awaiting its first file, not missing every month; count_missing null).
with missing_months as (
    -- a run of consecutive missing months shares month number minus its place in the list
    select m.council_id, m.dataset, m.month,
           date_diff('month', date '2000-01-01', m.month)
               - row_number() over (partition by m.council_id, m.dataset order by m.month) as run
    from mart_coverage_by_council_month m
    where m.is_missing and in_scope_or_shared(m.council_id, ?, ?)
      and m.month between ? and ?
),
runs as (
    select council_id, dataset, min(month) as first_month, max(month) as last_month, count(*) as count_months
    from missing_months
    group by council_id, dataset, run
),
missing as (
    -- months as runs, as scope.month_ranges writes them: "Oct 2014 – Mar 2026", "Apr – May 2025, Jul 2025"
    select council_id, dataset, sum(count_months) as count_missing,
           string_agg(
               case when first_month = last_month then strftime(first_month, '%b %Y')
                    when year(first_month) = year(last_month)
                        then strftime(first_month, '%b') || ' – ' || strftime(last_month, '%b %Y')
                    else strftime(first_month, '%b %Y') || ' – ' || strftime(last_month, '%b %Y') end,
               ', ' order by first_month) as months
    from runs
    group by council_id, dataset
),
awaiting as (
    select l.council_id, l.dataset, null::bigint as count_missing,
           'No data loaded yet (configured, awaiting its first file)' as months
    from mart_loaded_by_council_dataset l
    where l.is_awaiting_first_file and in_scope_or_shared(l.council_id, ?, ?)
)
select c.short_name as council, rows.dataset, rows.count_missing, rows.months
from (select * from missing union all select * from awaiting) as rows
join dim_councils c using (council_id)
order by c.sort_order, rows.count_missing is null, rows.dataset
