-- rejects_by_reason: Problems found in rows, counted per council, dataset, severity and reason.
select council, dataset, severity, reason,
       count(distinct (source_file, source_row)) as count_rows, count(distinct source_file) as count_files
from mart_rejects_by_row
where in_scope_or_shared(council_id, ?, ?)
group by council, dataset, severity, reason
order by min(case severity when 'rejected' then 0 when 'warning' then 1 else 2 end), count_rows desc, council
