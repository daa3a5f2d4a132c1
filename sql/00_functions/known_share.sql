-- One row per call: a share of spend by a flag (on contract, local, SME, VCSE), the one rule every
-- share uses (the overview, benchmarking, the computed KPIs, data quality): share_part / share_base.
-- Credits and refunds are netted against payments to the
-- same supplier with the same flags (on and off contract apart) in the period: the rows these macros
-- aggregate are such nets (`supplier_net_spend` over `mart_share_basis_by_supplier_month`, whose rows
-- are already a month's nets). A net that is not positive (a refund-only supplier, credits larger
-- than payments) is left out of both numerator and denominator, so a share is between 0 and 1.
-- "Has data": the flag is known for some of the spend counted; otherwise null ("no data"), also
-- where nothing is left to count (every supplier nets to nothing or less). Unknown flags stay in
-- the denominator: they are not counted as local, SME, VCSE or on contract.
create or replace macro known_share(flag, amount) as (
    share_part(flag, amount) / share_base(flag, amount)
);
