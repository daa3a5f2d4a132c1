-- One row per call: the matching key of a maturity key area's name: lower case, "&" as "and",
-- punctuation and repeated spaces gone ("Engaging local SMEs & micro-businesses" ->
-- "engaging local smes and micro businesses").
create or replace macro maturity_area_key(name) as (
    trim(regexp_replace(lower(replace(name, '&', ' and ')), '[^a-z0-9]+', ' ', 'g'))
);
