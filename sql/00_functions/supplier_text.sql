-- One row per call: a supplier name upper-cased with accents, punctuation, "&" and Unicode spaces
-- normalised, legal suffixes kept (so a name cut at 35 characters is still a prefix of the full
-- name's text).
create or replace macro supplier_text(name) as (
    trim(regexp_replace(regexp_replace(regexp_replace(
        regexp_replace(
            upper(strip_accents(replace(trim(name), '&', ' AND '))),
            '\b(LTD|LIMITED|PLC|LLP|CIC)\.?\s+-\s+.*$', '\1'),
        '[.'']', '', 'g'),
        '[^A-Z0-9]+', ' ', 'g'),
        '\s+', ' ', 'g'))
);
