-- One row per file (or ZIP member) the build read: status, rows read, loaded and rejected, the
-- dates it covers and when it arrived.
create or replace view stg_files as

select
    file_id,
    council_id,
    dataset,
    source_file,
    split_part(source_file, '/', -1) as file_name,
    sha256,
    size_bytes,
    status,
    nullif(message, '') as message,
    rows_read,
    rows_loaded,
    rows_rejected,
    amount_total as amount_gbp,
    first_date,
    last_date,
    received_at
from file_ledger
