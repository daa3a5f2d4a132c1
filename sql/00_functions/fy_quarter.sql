-- One row per call: the UK financial-year quarter label ("2025-26 Q1") of a date; Q1 is April-June.
create or replace macro fy_quarter(d) as (
    financial_year(d) || ' Q' || ((month(d) + 8) % 12 // 3 + 1)::varchar
);
