-- One row per notice (OCDS release) a council published: type UK1-UK17 where Find a Tender gives
-- it, publication date and financial year, value, CPV and title.
create or replace view fct_notices as

with

notices as (
    select * from stg_notices
),

types as (
    select notice_type, name as notice_name, stage as notice_stage from ref_notice_types
)

select
    notices.*,
    types.notice_name,
    types.notice_stage,
    financial_year(notices.published_date) as financial_year
from notices
left join types using (notice_type)
