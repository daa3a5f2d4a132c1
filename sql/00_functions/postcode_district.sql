-- One row per call: the outward code (district) of a UK postcode, e.g. 'SK1' from 'sk1 3xe'.
create or replace macro postcode_district(pc) as (
    nullif(regexp_extract(upper(trim(pc)), '^([A-Z]{1,2}[0-9][0-9A-Z]?)\s*[0-9][A-Z]{2}$', 1), '')
);
