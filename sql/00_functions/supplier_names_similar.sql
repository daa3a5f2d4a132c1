-- One row per call: whether two supplier keys plausibly name one business: the same letters once
-- spaces are ignored, or every word of the shorter name found in the longer (a word also counts
-- when it is the start of the other's word, three letters at least: "COM" / "COMMUNITY", or a
-- word cut at 35 characters). "WASHINGTON DIRECT MAIL" / "WASHINGTON DIRECT MAIL WDM" are
-- similar; "G4S CASH SOLUTIONS" / "G4S SECURE SOLUTIONS UK" are not.
create or replace macro supplier_names_similar(key_a, key_b) as (
    replace(key_a, ' ', '') = replace(key_b, ' ', '')
    or list_bool_and(list_transform(
        case when len(string_split(key_a, ' ')) <= len(string_split(key_b, ' '))
             then string_split(key_a, ' ') else string_split(key_b, ' ') end,
        lambda word: len(list_filter(
            case when len(string_split(key_a, ' ')) <= len(string_split(key_b, ' '))
                 then string_split(key_b, ' ') else string_split(key_a, ' ') end,
            lambda other: other = word
                or (len(word) >= 3 and starts_with(other, word))
                or (len(other) >= 3 and starts_with(word, other))
        )) > 0
    ))
);
