-- One row per call: a maturity level (1-5) from text as councils write it: "3", "Level 3",
-- "3 - Mature", "Mature"; null when it names no level. Level names come from the reference list
-- (a list of names, the first being level 1).
create or replace macro maturity_level(text, level_names) as (
    coalesce(
        try_cast(nullif(regexp_extract(text, '(^|[^0-9])([1-5])([^0-9]|$)', 2), '') as integer),
        list_position(
            list_transform(level_names, lambda n: regexp_matches(lower(text), '\b' || lower(n) || '\b')),
            true
        )
    )
);
