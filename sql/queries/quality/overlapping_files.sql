-- overlapping_files: Per spend file already loaded for one council, the lines and amount it holds in
-- the months an incoming file covers, and what else it holds (what replacing it would also remove).
with

months as (
    select unnest(?::date[]) as month
),

files as (
    select
        source_file,
        array_to_string(
            list(strftime(f.month, '%b %Y') order by f.month) filter (where f.month in (select month from months)), ', '
        ) as months,
        sum(count_lines) filter (where f.month in (select month from months)) as count_lines,
        sum(amount_gbp) filter (where f.month in (select month from months)) as amount_gbp,
        coalesce(sum(count_lines) filter (where f.month not in (select month from months)), 0) as count_other_lines,
        count(*) filter (where f.month not in (select month from months)) as count_other_months
    from mart_spend_by_file_month as f
    where council_id = ? and in_scope_or_shared(council_id, ?, ?)
    group by source_file
)

select * from files
where count_lines > 0
order by source_file
