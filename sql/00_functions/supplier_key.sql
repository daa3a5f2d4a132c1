-- One row per call: the matching key of a supplier name: its normalised text with spaced initials
-- joined and common abbreviations written one way, without a leading THE or trailing legal
-- suffixes (LTD, LIMITED, PLC, LLP, CIC, and LIMITED cut short), so spellings of one supplier meet.
-- Names whose keys differ only in spacing ("MATHER CARE" / "MATHERCARE") are one supplier too:
-- map_supplier_names groups on the key without spaces.
create or replace macro supplier_key(name) as (
    trim(regexp_replace(regexp_replace(
        supplier_abbreviations(supplier_initials(supplier_text(name))),
        '^THE\s+', ''),
        '(\s+(LTD|LIMITED|LIMITE|LIMIT|LIMI|LIM|LT|PLC|LLP|CIC))+$', ''))
);
