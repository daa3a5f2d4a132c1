-- One row per council, supplier and flags: the rows of `spend` (a table or CTE name with the share
-- basis's columns, already cut to the period and councils) netted over the whole period, the rows
-- every share of spend is computed over (known_share).
create or replace macro supplier_net_spend(spend) as table
    select council_id, supplier_id, is_addressable, is_on_contract, is_local, is_sme, is_vcse,
           sum(spend_gbp) as spend_gbp
    from query_table(spend)
    group by all;
