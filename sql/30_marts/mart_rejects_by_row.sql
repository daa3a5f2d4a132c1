-- One row per problem found in a row of an extract (what the data quality page lists and
-- downloads): council, dataset, file, row, column, value, reason, severity.
-- key: council_id, dataset, source_file, source_row, column_name?, reason
create or replace view mart_rejects_by_row as

select
    rejects.council_id,
    councils.short_name as council,
    rejects.dataset,
    rejects.source_file,
    rejects.source_row,
    rejects.column_name,
    rejects.value,
    rejects.reason,
    rejects.severity,
    rejects.is_row_rejected
from fct_rejects as rejects
left join dim_councils as councils using (council_id)
