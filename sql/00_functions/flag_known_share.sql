-- One row per call: the share of the counted spend (positive supplier nets) whose flag is known,
-- how much a share of spend rests on.
create or replace macro flag_known_share(flag, amount) as (
    coalesce(sum(amount) filter (where amount > 0 and flag is not null), 0)
        / nullif(sum(amount) filter (where amount > 0), 0)
);
