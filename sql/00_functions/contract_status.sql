-- One row per call: a contract's status on the day `today`, in the one vocabulary the app uses:
-- 'not started' before its start date, 'live' to its end date, 'in extension' to its latest end date
-- with extensions, 'ended' after. Queries pass today as a parameter; no view stores a status, since
-- a table would freeze it on the day of the build.
create or replace macro contract_status(start_date, end_date, max_end_date, today) as (
    case
        when today < start_date then 'not started'
        when today <= end_date then 'live'
        when today <= max_end_date then 'in extension'
        else 'ended'
    end
);
