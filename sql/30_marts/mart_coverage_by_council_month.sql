-- One row per council, dataset and month holding data: rows loaded and the files they came from.
create or replace view mart_coverage_by_council_month as

select
    council_id,
    'spend' as dataset,
    month,
    count(*) as count_rows,
    count(distinct source_file) as count_files
from fct_spend
group by all
