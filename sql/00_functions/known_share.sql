-- One row per call: a share of spend by a flag (on contract, local, SME, VCSE), the one rule every
-- share uses (the overview, benchmarking, the computed KPIs): share_part / share_base, written out
-- here because a macro is bound when it is created and the build creates these files in name order.
-- Credits and refunds are netted against payments to the
-- same supplier with the same flags (on and off contract apart) in the period: the rows these macros
-- aggregate are such nets (`supplier_net_spend` over `mart_share_basis_by_supplier_month`, whose rows
-- are already a month's nets). A net that is not positive (a refund-only supplier, credits larger
-- than payments) is left out of both numerator and denominator, so a share is between 0 and 1.
-- "Has data": the flag is known for some of the spend counted; otherwise null ("no data"), also
-- where nothing is left to count (every supplier nets to nothing or less). Unknown flags stay in
-- the denominator: they are not counted as local, SME, VCSE or on contract.
create or replace macro known_share(flag, amount) as (
    case when bool_or(flag is not null and amount > 0)
         then coalesce(sum(amount) filter (where amount > 0 and flag), 0) / sum(amount) filter (where amount > 0) end
);
