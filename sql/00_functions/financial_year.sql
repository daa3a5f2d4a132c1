-- One row per call: the UK financial year label ("2025-26") of a date; years start on 1 April.
create or replace macro financial_year(d) as (
    (year(d) - case when month(d) < 4 then 1 else 0 end)::varchar || '-'
    || right(((year(d) - case when month(d) < 4 then 1 else 0 end) + 1)::varchar, 2)
);
