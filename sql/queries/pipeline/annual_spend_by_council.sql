-- annual_spend_by_council: Addressable spend per council of the scope in the 12 months to the
-- latest month loaded, and whether it is over the Procurement Act 2023 pipeline-notice threshold;
-- both null ("no data") for a council with no spend loaded (mart_measure_coverage_by_council), not £0.
with latest as (select max(month) as last_month from mart_spend_by_council_month)
select councils.short_name as council, councils.council_id,
       case when any_value(coverage.has_data) then coalesce(sum(spend.spend_gbp), 0) end as annual_spend_gbp,
       case when any_value(coverage.has_data) then coalesce(sum(spend.spend_gbp), 0) > $threshold end as is_over_threshold,
       any_value(latest.last_month) as last_month
from dim_councils as councils
cross join latest
left join mart_measure_coverage_by_council as coverage
    on coverage.council_id = councils.council_id and coverage.measure = 'spend'
left join mart_spend_by_council_month as spend
    on spend.council_id = councils.council_id and spend.is_addressable
    and spend.month > latest.last_month - interval 12 month and spend.month <= latest.last_month
where in_scope(councils.council_id, $ids)
group by councils.council_id, councils.short_name, councils.sort_order
order by councils.sort_order
