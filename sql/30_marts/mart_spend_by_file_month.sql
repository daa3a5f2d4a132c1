-- One row per spend file (or ZIP member) and month: the lines and amount it loaded for that month,
-- so an import can show which months of which loaded files a new file would overlap.
-- key: council_id, source_file, month
create or replace view mart_spend_by_file_month as

with

spend as (
    select * from fct_spend
),

by_file_month as (
    select
        council_id,
        source_file,
        date_trunc('month', payment_date)::date as month,
        count(*) as count_lines,
        sum(amount_gbp) as amount_gbp
    from spend
    group by all
)

select * from by_file_month
