-- One row per partner council and measure that depends on a dataset or attribute a council may not
-- have loaded: whether the council has data for it at all, and what the measure needs. Pages use it
-- to say why a measure shows "no data" (a share of spend has no data in a period where known_share
-- finds its flag known on none of the spend), and counts and totals cover only the councils with data
-- for them (`spend`: any spend line; `contracts`: a contract of its own, from a register or notices).
-- A table: small, read on several pages.
-- key: council_id, measure
create or replace table mart_measure_coverage_by_council as

with

councils as (
    select council_id, short_name from dim_councils where is_council
),

contracts as (
    select council_id, count(*) as count_rows from fct_contracts group by all
),

spend as (
    select council_id, count(*) as count_rows from fct_spend group by all
),

flags as (
    select
        council_id,
        sum(abs(amount_gbp)) as spend_gbp,
        sum(abs(amount_gbp)) filter (where is_on_contract is not null) as on_contract_gbp,
        sum(abs(amount_gbp)) filter (where is_local is not null) as local_gbp,
        sum(abs(amount_gbp)) filter (where is_sme is not null) as sme_gbp,
        sum(abs(amount_gbp)) filter (where is_vcse is not null) as vcse_gbp
    from fct_spend
    group by all
),

social_value as (
    select council_id, count(*) as count_rows
    from (
        select unnest(contracts.covered_council_ids) as council_id
        from fct_social_value as sv
        join fct_contracts as contracts using (contract_id)
    )
    group by all
),

kpis as (
    select council_id, count(*) as count_rows from fct_kpis group by all
),

maturity as (
    select council_id, count(*) as count_rows from fct_maturity group by all
),

measures as (
    select
        councils.council_id,
        unnest([
            {measure: 'spend', needs: 'spend data', rows: coalesce(spend.count_rows, 0), known_share: null},
            {measure: 'contracts', needs: 'a contracts register', rows: coalesce(contracts.count_rows, 0),
             known_share: null},
            {measure: 'on_contract', needs: 'a contracts register', rows: coalesce(contracts.count_rows, 0),
             known_share: flags.on_contract_gbp / nullif(flags.spend_gbp, 0)},
            {measure: 'local', needs: 'supplier postcodes', rows: null,
             known_share: flags.local_gbp / nullif(flags.spend_gbp, 0)},
            {measure: 'sme', needs: 'supplier SME flags', rows: null,
             known_share: flags.sme_gbp / nullif(flags.spend_gbp, 0)},
            {measure: 'vcse', needs: 'supplier VCSE flags', rows: null,
             known_share: flags.vcse_gbp / nullif(flags.spend_gbp, 0)},
            {measure: 'social_value', needs: 'social value returns', rows: coalesce(social_value.count_rows, 0),
             known_share: null},
            {measure: 'kpis', needs: 'a KPI extract', rows: coalesce(kpis.count_rows, 0), known_share: null},
            {measure: 'maturity', needs: 'a maturity assessment', rows: coalesce(maturity.count_rows, 0),
             known_share: null}
        ]) as m
    from councils
    left join contracts using (council_id)
    left join spend using (council_id)
    left join flags using (council_id)
    left join social_value using (council_id)
    left join kpis using (council_id)
    left join maturity using (council_id)
)

select
    council_id,
    m.measure,
    coalesce(m.rows > 0, coalesce(m.known_share, 0) > 0) as has_data,
    m.rows as count_rows,
    m.known_share,
    m.needs
from measures
