-- One row per call: in_scope, or a shared service's own row (STAR's files and team KPIs) among
-- `shared_ids`: the shared services for a user who sees every council and has not narrowed the
-- selection, else none.
create or replace temp macro in_scope_or_shared(council_id, council_ids, shared_ids) as
    in_scope(council_id, council_ids) or list_contains(shared_ids::varchar[], council_id);
