-- cube_supplier_contracts: Contracts the supplier holds with each council in scope (STAR
-- collaborative contracts under every council they cover), their status on the day given
-- (contract_status macro), and what that council has paid under each to date.
select c.short_name as council, m.contract_ref, m.contract_title, m.category,
       case when m.is_collaborative then 'STAR collaborative' else 'Council' end as let_by,
       contract_status(m.start_date, m.end_date, m.max_end_date, ?) as status,
       m.start_date, m.end_date, m.max_end_date, m.value_gbp, m.spend_gbp
from mart_contracts_by_supplier_council m
join dim_councils c using (council_id)
where m.supplier_id = ? and in_scope(m.council_id, ?)
order by c.sort_order, m.end_date desc, m.contract_ref
