-- One row per call: the matching key of a supplier name: its normalised text without a leading
-- THE or trailing legal suffixes (LTD, LIMITED, PLC, LLP, CIC), so spellings of one supplier meet.
create or replace macro supplier_key(name) as (
    trim(regexp_replace(regexp_replace(
        supplier_text(name),
        '^THE\s+', ''),
        '(\s+(LTD|LIMITED|PLC|LLP|CIC))+$', ''))
);
