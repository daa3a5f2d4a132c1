-- supplier_match_candidates: Pairs of suppliers whose names look alike, best score first, with each
-- side's councils and spend, both counted only within the user's councils (both sides must be used
-- by one of them).
with visible as (
    select
        m.*,
        list_filter(m.councils_a, lambda x: in_scope_or_shared(x.council_id, ?, ?)) as seen_a,
        list_filter(m.councils_b, lambda x: in_scope_or_shared(x.council_id, ?, ?)) as seen_b
    from mart_supplier_matches_by_pair m
),
names as (select list(council_id) as ids, list(short_name) as names from dim_councils)
select
    pair_id, score, evidence, supplier_name_a, supplier_name_b,
    array_to_string(list_transform(seen_a, lambda x: names.names[list_position(names.ids, x.council_id)]), ', ')
        as councils_a,
    array_to_string(list_transform(seen_b, lambda x: names.names[list_position(names.ids, x.council_id)]), ', ')
        as councils_b,
    list_sum(list_transform(seen_a, lambda x: x.spend_gbp))::double as spend_gbp_a,
    list_sum(list_transform(seen_b, lambda x: x.spend_gbp))::double as spend_gbp_b,
    supplier_id_a, supplier_id_b
from visible, names
where len(seen_a) > 0 and len(seen_b) > 0
order by score desc, spend_gbp_a + spend_gbp_b desc, pair_id
limit ?
