-- One row per call: runs of single letters in a normalised name joined into one word
-- ("FUTURE DIRECTIONS C I C" -> "FUTURE DIRECTIONS CIC", "J W GASKELL" -> "JW GASKELL"), longest first.
create or replace macro supplier_initials(text) as (
    trim(regexp_replace(regexp_replace(regexp_replace(
        ' ' || text || ' ',
        ' ([A-Z]) ([A-Z]) ([A-Z]) ([A-Z]) ', ' \1\2\3\4 ', 'g'),
        ' ([A-Z]) ([A-Z]) ([A-Z]) ', ' \1\2\3 ', 'g'),
        ' ([A-Z]) ([A-Z]) ', ' \1\2 ', 'g'))
);
