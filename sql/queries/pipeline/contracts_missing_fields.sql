-- contracts_missing_fields: Register records over the Transparency Code value (£5,000) live in the
-- month that leave a mandatory field blank, with the fields missing, ranked by value.
select missing.contract_title, missing.owner_name as council, missing.value_gbp, count(*) as count_missing,
       string_agg(missing.field_label, '; ' order by missing.field_order) as missing_fields,
       missing.supplier_name, missing.contract_ref, missing.contract_id, missing.supplier_id
from mart_missing_fields_by_contract as missing
where covers_scope(missing.covered_council_ids, $ids)
  and missing.value_gbp > $min_value and missing.start_date <= $month_end and missing.max_end_date >= $month
  and contains(lower(missing.contract_title || ' ' || coalesce(missing.supplier_name, '')), $search)
  and missing.value_gbp >= $min_gbp
group by all
order by missing.value_gbp desc, missing.contract_id
