-- One row per call: the normalised matching key of a supplier name (case, punctuation, &/AND,
-- legal suffixes, a leading THE, a trading name after "LTD - ..."), so spellings of one supplier meet.
create or replace macro supplier_key(name) as (
    trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        regexp_replace(
            upper(replace(trim(name), '&', ' AND ')),
            '\b(LTD|LIMITED|PLC|LLP|CIC)\.?\s+-\s+.*$', '\1'),
        '[.'']', '', 'g'),
        '[^A-Z0-9]+', ' ', 'g'),
        '^\s*THE\s+', ''),
        '(\s+(LTD|LIMITED|PLC|LLP|CIC|CO LTD))+\s*$', ''),
        '\s+', ' ', 'g'))
);
