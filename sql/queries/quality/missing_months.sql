-- missing_months: Per council and dataset: the expected months in the period with no rows at all;
-- and, once, each dataset a council is configured for but has sent nothing of yet ("no data loaded
-- yet": awaiting its first file, not missing every month; count_missing null).
with missing as (
    select m.council_id, m.dataset, count(*) as count_missing,
           string_agg(strftime(m.month, '%b %Y'), ', ' order by m.month) as months
    from mart_coverage_by_council_month m
    where m.is_missing and in_scope_or_shared(m.council_id, ?, ?)
      and m.month between ? and ?
    group by m.council_id, m.dataset
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
