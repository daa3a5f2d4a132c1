-- One row per group (an aggregate): the share of `amount` where `flag` is true, or null ("no data")
-- when the flag is known for none of the rows. The one definition of "has data" for a share of spend
-- by a flag: on contract (unknown for a council with no contracts of its own loaded), local, SME,
-- VCSE (unknown for a supplier with no postcode or register flag). Unknown rows stay in the
-- denominator: they are not counted as local.
create or replace macro known_share(flag, amount) as (
    case when bool_or(flag is not null)
         then coalesce(sum(amount) filter (where flag), 0) / nullif(sum(amount), 0) end
);
