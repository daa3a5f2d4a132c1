-- One row per problem found in a row of an extract: the row rejected, skipped (blank or summary
-- row) or loaded with a field left empty (warning), with file, row, column, value and reason.
create or replace view stg_rejects as

select
    council_id,
    dataset,
    source_file,
    source_row,
    nullif(trim(column_name), '') as column_name,
    value,
    reason,
    severity
from rejects
