-- One row per call: the part of share_base where the flag is true (null: no data).
create or replace macro share_part(flag, amount) as (
    case when bool_or(flag is not null and amount > 0)
         then coalesce(sum(amount) filter (where amount > 0 and flag), 0) end
);
