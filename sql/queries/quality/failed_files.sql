-- failed_files: Files the build could not read at all, with the reason.
select council, dataset, source_file, message
from mart_rows_by_file
where status = 'failed' and in_scope_or_shared(council_id, ?, ?)
order by council, dataset, source_file
