-- One row per call: net spend left out of every share of spend, the supplier nets that are not
-- positive (0 when none).
create or replace macro share_left_out(amount) as (
    coalesce(sum(amount) filter (where amount <= 0), 0)
);
