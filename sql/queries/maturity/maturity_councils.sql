-- maturity_councils: Councils in scope with a readable maturity assessment on or before the end of
-- the period.
select distinct councils.council_id, councils.short_name, councils.colour, councils.sort_order
from mart_maturity_by_council_area as m
join dim_councils as councils using (council_id)
where in_scope(m.council_id, ?) and m.assessed_date <= ? and m.problem is null
order by councils.sort_order
