-- One row per problem found in a row of an extract, with whether it kept the row out of the data.
create or replace view fct_rejects as

select
    *,
    severity = 'rejected' as is_row_rejected
from stg_rejects
