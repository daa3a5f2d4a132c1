-- One row per call: net spend left out of every share of spend, as a positive amount: the supplier
-- nets that are not positive (supplier_net_spend puts each on one row; 0 when none).
create or replace macro share_left_out(amount) as (
    0.0 - coalesce(sum(amount) filter (where amount < 0), 0)
);
