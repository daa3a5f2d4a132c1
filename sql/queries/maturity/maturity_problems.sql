-- maturity_problems: Assessment rows that could not be read (an unknown key area, a level that
-- names no level), with the file and row they came from.
select councils.short_name as council, m.area_as_published as area, m.assessed_date, m.problem,
       m.source_file, m.source_row
from mart_maturity_by_council_area as m
join dim_councils as councils using (council_id)
where in_scope(m.council_id, ?) and m.problem is not null
order by councils.sort_order, m.source_file, m.source_row
