-- Shares of spend by a flag (on contract, local, SME, VCSE): the one rule every share uses (the
-- overview, benchmarking, the computed KPIs). Credits and refunds are netted against payments to the
-- same supplier with the same flags (on and off contract apart) in the period: the rows these macros
-- aggregate are such nets (`supplier_net_spend` over `mart_share_basis_by_supplier_month`, whose rows
-- are already a month's nets). A net that is not positive (a refund-only supplier, credits larger
-- than payments) is left out of both numerator and denominator, so a share is between 0 and 1.
-- "Has data": the flag is known for some of the spend counted; otherwise null ("no data"), also
-- where nothing is left to count (every supplier nets to nothing or less). Unknown flags stay in
-- the denominator: they are not counted as local, SME, VCSE or on contract.

-- the spend a share is of: the positive nets (null: no data)
create or replace macro share_base(flag, amount) as (
    case when bool_or(flag is not null and amount > 0) then sum(amount) filter (where amount > 0) end
);

-- the part of share_base where the flag is true
create or replace macro share_part(flag, amount) as (
    case when bool_or(flag is not null and amount > 0)
         then coalesce(sum(amount) filter (where amount > 0 and flag), 0) end
);

create or replace macro known_share(flag, amount) as (
    share_part(flag, amount) / share_base(flag, amount)
);

-- the share of the counted spend whose flag is known (how much the share rests on)
create or replace macro flag_known_share(flag, amount) as (
    coalesce(sum(amount) filter (where amount > 0 and flag is not null), 0)
        / nullif(sum(amount) filter (where amount > 0), 0)
);

-- net spend left out of every share: the nets that are not positive (0 when none)
create or replace macro share_left_out(amount) as (
    coalesce(sum(amount) filter (where amount <= 0), 0)
);

-- rows of `spend` (a table or CTE name with the share basis's columns, already cut to the period and
-- councils) netted per council, supplier and flags over the whole period
create or replace macro supplier_net_spend(spend) as table
    select council_id, supplier_id, is_addressable, is_on_contract, is_local, is_sme, is_vcse,
           sum(spend_gbp) as spend_gbp
    from query_table(spend)
    group by all;
