-- act_notice_duties: One row per notice the Procurement Act 2023 expects of a council of the scope
-- (docs/PROCUREMENT-ACT.md): the pipeline notice (UK1) of each financial year in which the council
-- spends over the threshold, a contract details notice (UK7) per contract entered into, a contract
-- performance notice (UK9) per 12 months of a contract over £5m, a contract termination notice
-- (UK11) per contract ended; with the date it is due by and the notice published for it, if any.
with
years as (
    select distinct council_id, financial_year,
           make_date(left(financial_year, 4)::integer, 4, 1) as year_start
    from fct_notices
    where in_scope(council_id, $ids)
    union
    select distinct council_id, financial_year(month), make_date(left(financial_year(month), 4)::integer, 4, 1)
    from mart_spend_by_council_month
    where in_scope(council_id, $ids)
),
spend as (
    select council_id, financial_year(month) as financial_year, sum(spend_gbp) as spend_gbp
    from mart_spend_by_council_month
    where is_addressable and in_scope(council_id, $ids)
    group by all
),
notices as (
    select council_id, lower(ocid) as ocid, notice_type, published_date, release_id
    from fct_notices
    where in_scope(council_id, $ids) and notice_type in ('UK1', 'UK7', 'UK9', 'UK11')
),
contracts as (
    -- contracts entered into under the Act (from its start date), each once per OCID or contract
    select council_id, contract_id, contract_ref, contract_title, supplier_name, ocid, value_gbp,
           start_date, end_date, source
    from fct_contracts
    where in_scope(council_id, $ids) and council_id <> 'star' and start_date >= $act_from
),
pipeline as (
    -- the year's expected spend: the previous year's addressable spend, else the year's own
    select years.council_id, 'UK1' as notice_type, years.financial_year,
           null::varchar as contract_id, null::varchar as contract_ref,
           'Pipeline notice ' || years.financial_year as contract_title, null::varchar as supplier_name,
           null::varchar as ocid, coalesce(before.spend_gbp, this.spend_gbp) as value_gbp,
           years.year_start + to_days($pipeline_days - 1) as due_date,
           (select min(n.published_date) from notices n
            where n.council_id = years.council_id and n.notice_type = 'UK1'
              and n.published_date >= years.year_start and n.published_date < years.year_start + interval 1 year)
               as published_date
    from years
    left join spend as before
        on before.council_id = years.council_id
        and before.financial_year = financial_year(years.year_start - interval 1 day)
    left join spend as this on this.council_id = years.council_id and this.financial_year = years.financial_year
    where years.year_start >= $act_from
        and coalesce(before.spend_gbp, this.spend_gbp) > $spend_gbp
),
details as (
    select contracts.council_id, 'UK7' as notice_type, financial_year(contracts.start_date) as financial_year,
           contracts.contract_id, contracts.contract_ref, contracts.contract_title, contracts.supplier_name,
           contracts.ocid, contracts.value_gbp,
           contracts.start_date + to_days($details_days - 1) as due_date,
           (select min(n.published_date) from notices n
            where n.council_id = contracts.council_id and n.ocid = contracts.ocid and n.notice_type = 'UK7')
               as published_date
    from contracts
    where contracts.value_gbp >= $details_min_gbp
),
performance_due as (
    select contracts.*, unnest(generate_series(1, 100)) as period_number
    from contracts
    where contracts.value_gbp > $performance_gbp
),
performance as (
    select council_id, 'UK9' as notice_type,
           financial_year(start_date + to_months($performance_months * period_number)) as financial_year,
           contract_id, contract_ref, contract_title, supplier_name, ocid, value_gbp,
           (start_date + to_months($performance_months * period_number))::date as due_date,
           (select min(n.published_date) from notices n
            where n.council_id = performance_due.council_id and n.ocid = performance_due.ocid and n.notice_type = 'UK9'
              and n.published_date > start_date + to_months($performance_months * (period_number - 1))
              and n.published_date <= start_date + to_months($performance_months * period_number)) as published_date
    from performance_due
    where start_date + to_months($performance_months * period_number) <= end_date
),
termination as (
    select council_id, 'UK11' as notice_type, financial_year(end_date) as financial_year,
           contract_id, contract_ref, contract_title, supplier_name, ocid, value_gbp,
           end_date + to_days($termination_days - 1) as due_date,
           (select min(n.published_date) from notices n
            where n.council_id = contracts.council_id and n.ocid = contracts.ocid and n.notice_type = 'UK11')
               as published_date
    from contracts
    where end_date < $today
),
duties as (
    select * from pipeline
    union all by name select * from details
    union all by name select * from performance
    union all by name select * from termination
)
select councils.short_name as council, duties.*,
       case
           when duties.published_date is not null and duties.published_date <= duties.due_date then 'on time'
           when duties.published_date is not null then 'late'
           when duties.due_date >= $today then 'not yet due'
           else 'missing'
       end as notice_status
from duties
join dim_councils as councils using (council_id)
where duties.due_date < $today + interval 1 year
order by councils.sort_order, duties.financial_year, duties.notice_type, duties.due_date
