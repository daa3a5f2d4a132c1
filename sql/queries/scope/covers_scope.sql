-- One row per call: whether a row that covers several councils (a STAR collaborative contract, its
-- social value) covers at least one the question may see; `council_ids` as in in_scope.
create or replace temp macro covers_scope(covered_council_ids, council_ids) as
    len(list_intersect(covered_council_ids, council_ids::varchar[])) > 0;
