-- rejected_rows: Line-level problems (file, row, column, value, reason), at most ``limit`` (default
-- from the settings); none for a role without line detail.
select council, dataset, source_file, source_row, column_name, value, reason, severity
from mart_rejects_by_row
where in_scope_or_shared(council_id, ?, ?) and severity in (select unnest(?::varchar[]))
order by council, dataset, source_file, source_row, column_name
limit ?
