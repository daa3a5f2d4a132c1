-- One row per call: whether a row's council is one the question may see. `council_ids` is the
-- user's selection cut to the councils the user may see (Scope.council_ids), always a parameter.
-- Row-level security written once: every question reading council data filters through this macro
-- (or covers_scope for rows that cover several councils). The app defines it on each connection.
create or replace temp macro in_scope(council_id, council_ids) as list_contains(council_ids::varchar[], council_id);
