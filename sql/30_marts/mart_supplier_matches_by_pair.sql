-- One row per pair of suppliers whose names look alike (candidate merges for review): the score,
-- each side's name, councils and spend per council. Side a is the one with more spend (the name
-- an accepted merge keeps). Never applied here: an admin accepts or rejects each pair; accepted
-- pairs go to ref_supplier_aliases, rejected ones to ref_supplier_non_matches (not proposed again).
-- Score: a soft TF-IDF similarity of the two names' words (rare words weigh more than LTD,
-- SERVICES or BROTHERS; words within ref_supplier_matching.token_similarity count as the same).
-- Also proposed, whatever the score: names one of which holds every word of the other
-- ("LEONARD CHESHIRE" / "LEONARD CHESHIRE DISABILITY"), and suppliers sharing a VAT number that
-- the build did not merge because their names differ (a VAT group registration covers different
-- companies). `evidence` says why the pair is shown: name, VAT number, or both.
-- A table: computed once per build.
-- key: pair_id
create or replace table mart_supplier_matches_by_pair as

with

rules as (
    select
        max(value::double) filter (where rule = 'min_score') as min_score,
        max(value::double) filter (where rule = 'name_similarity_floor') as name_floor,
        max(value::double) filter (where rule = 'token_similarity') as token_floor,
        max(value::integer) filter (where rule = 'block_prefix_chars') as prefix_chars
    from ref_supplier_matching
),

suppliers as (
    select supplier_id, supplier_name, supplier_key(supplier_name) as name_key, company_number, charity_number
    from dim_suppliers
    where supplier_key(supplier_name) <> ''
),

spend as (
    select supplier_id, council_id, sum(amount_gbp) as spend_gbp, count(*) as count_lines
    from fct_spend
    where supplier_id is not null
    group by all
),

usage as (
    -- every council that uses one of the supplier's names (contracts registers included)
    select names.supplier_id, names.council_id, coalesce(any_value(spend.spend_gbp), 0) as spend_gbp,
           coalesce(any_value(spend.count_lines), 0) as count_lines
    from (select distinct supplier_id, council_id from map_supplier_names) as names
    left join spend using (supplier_id, council_id)
    group by all
),

usage_lists as (
    select
        supplier_id,
        list(struct_pack(council_id := council_id, spend_gbp := spend_gbp, count_lines := count_lines)
             order by council_id) as councils,
        sum(spend_gbp) as spend_gbp
    from usage
    group by supplier_id
),

tokens as (
    select distinct supplier_id, unnest(string_split(name_key, ' ')) as token from suppliers
),

token_weights as (
    select token, ln((select count(*) from suppliers) / count(*)) as idf
    from tokens
    group by token
),

vectors as (
    -- each name as a unit vector of word weights
    select
        tokens.supplier_id,
        tokens.token,
        token_weights.idf / nullif(sqrt(sum(token_weights.idf * token_weights.idf) over (partition by tokens.supplier_id)), 0)
            as weight
    from tokens
    join token_weights using (token)
),

rarest_words as (
    select tokens.supplier_id, arg_max(tokens.token, (token_weights.idf, tokens.token)) as rarest_word
    from tokens
    join token_weights using (token)
    group by tokens.supplier_id
),

blocks as (
    -- a name meets the names sharing its first characters, or its rarest word (a typo early in
    -- the name still meets its twin through the rarest word, and the reverse)
    select
        suppliers.supplier_id, suppliers.name_key, suppliers.company_number, suppliers.charity_number,
        left(suppliers.name_key, (select prefix_chars from rules)) as prefix_block,
        rarest_words.rarest_word as word_block
    from suppliers
    join rarest_words using (supplier_id)
),

block_pairs as (
    -- two equality joins: one join on "prefix or word" would compare every pair
    select a.supplier_id as id_a, b.supplier_id as id_b
    from blocks as a
    join blocks as b on a.prefix_block = b.prefix_block and a.supplier_id < b.supplier_id

    union

    select a.supplier_id, b.supplier_id
    from blocks as a
    join blocks as b on a.word_block = b.word_block and a.supplier_id < b.supplier_id
),

pairs as (
    -- different company or charity numbers say "not the same supplier"
    select
        block_pairs.id_a,
        block_pairs.id_b,
        jaro_winkler_similarity(a.name_key, b.name_key) as name_similarity,
        supplier_names_similar(a.name_key, b.name_key) as is_contained
    from block_pairs
    join blocks as a on a.supplier_id = block_pairs.id_a
    join blocks as b on b.supplier_id = block_pairs.id_b
    where (jaro_winkler_similarity(a.name_key, b.name_key) >= (select name_floor from rules)
           or supplier_names_similar(a.name_key, b.name_key))
      and (a.company_number is null or b.company_number is null or a.company_number = b.company_number)
      and (a.charity_number is null or b.charity_number is null or a.charity_number = b.charity_number)
),

word_pairs as (
    select
        pairs.id_a, pairs.id_b, va.token as token_a, va.weight as weight_a, vb.token as token_b, vb.weight as weight_b,
        supplier_word_similarity(va.token, vb.token) as similarity
    from pairs
    join vectors as va on va.supplier_id = pairs.id_a
    join vectors as vb on vb.supplier_id = pairs.id_b
),

best_for_a as (
    -- each word of a scored by its closest word of b
    select id_a, id_b, sum(contribution) as score
    from (
        select id_a, id_b, token_a, max(similarity) as similarity,
               max_by(weight_a * weight_b * similarity, similarity) as contribution
        from word_pairs
        group by id_a, id_b, token_a
    )
    where similarity >= (select token_floor from rules)
    group by id_a, id_b
),

best_for_b as (
    select id_a, id_b, sum(contribution) as score
    from (
        select id_a, id_b, token_b, max(similarity) as similarity,
               max_by(weight_a * weight_b * similarity, similarity) as contribution
        from word_pairs
        group by id_a, id_b, token_b
    )
    where similarity >= (select token_floor from rules)
    group by id_a, id_b
),

scored as (
    select
        pairs.id_a,
        pairs.id_b,
        pairs.name_similarity,
        pairs.is_contained,
        least(1.0, (coalesce(best_for_a.score, 0) + coalesce(best_for_b.score, 0)) / 2) as score
    from pairs
    left join best_for_a using (id_a, id_b)
    left join best_for_b using (id_a, id_b)
),

decided_keys as (
    -- pairs an admin has said are different suppliers, matched through any name of either side
    select supplier_key(name_a) as key_a, supplier_key(name_b) as key_b from ref_supplier_non_matches
    where name_a is not null and name_b is not null
),

name_keys as (
    select distinct supplier_id, supplier_key from map_supplier_names
),

rejected as (
    select distinct
        least(ka.supplier_id, kb.supplier_id) as id_a,
        greatest(ka.supplier_id, kb.supplier_id) as id_b
    from decided_keys
    join name_keys as ka on ka.supplier_key = decided_keys.key_a
    join name_keys as kb on kb.supplier_key = decided_keys.key_b
),

vat_suppliers as (
    -- suppliers a VAT number is given for, where it names a handful (not a council and its schools)
    select distinct names.supplier_id, spend.vat_number
    from (select distinct council_id, supplier_name, vat_number from fct_spend_lines where vat_number is not null) as spend
    join map_supplier_names as names using (council_id, supplier_name)
    where spend.vat_number in (
        select vat_number from fct_spend_lines where vat_number is not null group by vat_number
        having count(distinct supplier_name) <= 6
    )
),

vat_pairs as (
    select least(a.supplier_id, b.supplier_id) as id_a, greatest(a.supplier_id, b.supplier_id) as id_b,
           min(a.vat_number) as vat_number
    from vat_suppliers as a
    join vat_suppliers as b on a.vat_number = b.vat_number and a.supplier_id < b.supplier_id
    group by all
),

by_name as (
    select id_a, id_b, score, name_similarity
    from scored
    where scored.score >= (select min_score from rules) or scored.is_contained
),

candidates as (
    select
        coalesce(by_name.id_a, vat_pairs.id_a) as id_a,
        coalesce(by_name.id_b, vat_pairs.id_b) as id_b,
        coalesce(by_name.score, 0) as score,
        by_name.name_similarity,
        case when by_name.id_a is not null and vat_pairs.id_a is not null then 'name and VAT ' || vat_pairs.vat_number
             when vat_pairs.id_a is not null then 'VAT ' || vat_pairs.vat_number
             else 'name' end as evidence
    from by_name
    full join vat_pairs using (id_a, id_b)
    anti join rejected on rejected.id_a = coalesce(by_name.id_a, vat_pairs.id_a)
        and rejected.id_b = coalesce(by_name.id_b, vat_pairs.id_b)
),

oriented as (
    -- side a keeps its name when merged: the one with more spend (then more councils, then the name)
    select
        candidates.*,
        coalesce(ua.spend_gbp, 0) > coalesce(ub.spend_gbp, 0)
            or (coalesce(ua.spend_gbp, 0) = coalesce(ub.spend_gbp, 0) and len(ua.councils) >= len(ub.councils))
            as a_first
    from candidates
    left join usage_lists as ua on ua.supplier_id = candidates.id_a
    left join usage_lists as ub on ub.supplier_id = candidates.id_b
)

select
    'P' || left(md5(least(id_a, id_b) || '|' || greatest(id_a, id_b)), 10) as pair_id,
    round(oriented.score, 3) as score,
    round(oriented.name_similarity, 3) as name_similarity,
    oriented.evidence,
    sa.supplier_id as supplier_id_a,
    sa.supplier_name as supplier_name_a,
    ua.councils as councils_a,
    sb.supplier_id as supplier_id_b,
    sb.supplier_name as supplier_name_b,
    ub.councils as councils_b
from oriented
join suppliers as sa on sa.supplier_id = case when a_first then id_a else id_b end
join suppliers as sb on sb.supplier_id = case when a_first then id_b else id_a end
left join usage_lists as ua on ua.supplier_id = sa.supplier_id
left join usage_lists as ub on ub.supplier_id = sb.supplier_id
