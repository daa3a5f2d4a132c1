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

-- The keys held in more than one file first (a plain aggregate, which spills to disk), then the
-- rows of those keys only: listing every key's rows before the test held 10M lists in memory.
repeated as (
    select council_id, transaction_number, payment_date, amount_gbp
    from spend
    group by council_id, transaction_number, payment_date, amount_gbp
    having min(source_file) <> max(source_file)
),

groups as (
    select
        s.council_id,
        s.transaction_number,
        s.payment_date,
        s.amount_gbp,
        count(*) as count_lines,
        count(distinct s.source_file) as count_files,
        list(s.source_file || ' row ' || s.source_row order by s.source_file, s.source_row) as source_rows
    from spend as s
    semi join repeated as r
        on s.council_id = r.council_id
        and s.transaction_number = r.transaction_number
        and s.payment_date is not distinct from r.payment_date
        and s.amount_gbp is not distinct from r.amount_gbp
    group by s.council_id, s.transaction_number, s.payment_date, s.amount_gbp
)

select * from groups
