-- One row per file (or ZIP member) read by the build: council, dataset, status and message, rows
-- read, loaded and rejected, the dates it covers, when it arrived, and whether it is the latest.
-- key: file_id, source_file
create or replace view mart_rows_by_file as

select
    files.*,
    councils.short_name as council
from fct_files as files
left join dim_councils as councils using (council_id)
