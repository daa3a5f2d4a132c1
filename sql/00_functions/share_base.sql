-- One row per call: the spend a share of spend is of, the positive supplier nets (null: no data).
create or replace macro share_base(flag, amount) as (
    case when bool_or(flag is not null and amount > 0) then sum(amount) filter (where amount > 0) end
);
