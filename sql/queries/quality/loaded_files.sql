-- loaded_files: The files the live database loaded for one council and dataset, with the dates they
-- cover.
select source_file, file_name, status, rows_loaded, first_date, last_date
from mart_rows_by_file
where council_id = ? and dataset = ? and in_scope_or_shared(council_id, ?, ?)
order by source_file
