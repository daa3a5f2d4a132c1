-- One row per group of likely duplicate spend lines: the same council, transaction number, payment
-- date and amount loaded from more than one file (a year-to-date file added over the months it
-- repeats), with the files and rows that hold them.
-- key: council_id, transaction_number, payment_date, amount_gbp
create or replace view mart_duplicate_spend_lines as

with

spend as (
    select * from fct_spend
    where transaction_number is not null
),

groups as (
    select
        council_id,
        transaction_number,
        payment_date,
        amount_gbp,
        count(*) as count_lines,
        count(distinct source_file) as count_files,
        list(source_file || ' row ' || source_row order by source_file, source_row) as source_rows
    from spend
    group by council_id, transaction_number, payment_date, amount_gbp
    having count(distinct source_file) > 1
)

select * from groups
