-- One row per benchmarking measure: label, unit, which direction is better, and its threshold if any
-- (from data/reference/benchmark_measures.csv, so the Board can change them without code).
create or replace view dim_benchmark_measures as

select
    measure,
    label,
    unit,
    better,
    try_cast(nullif(threshold_gbp, '') as decimal(18, 2)) as threshold_gbp,
    description,
    row_number() over () as sort_order
from ref_benchmark_measures
