-- data_status: Per council in scope: months of spend loaded, first and last month, the as-at date.
select c.short_name as council, count(distinct m.month) as months_loaded,
       min(m.month) as first_month, max(m.month) as last_month
from dim_councils c
left join mart_spend_by_council_month m using (council_id)
where in_scope(c.council_id, ?)
group by c.short_name, c.sort_order
order by c.sort_order
