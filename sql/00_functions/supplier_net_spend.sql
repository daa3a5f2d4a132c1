-- One row per council, supplier and slice: the rows of `spend` (a table or CTE name: council_id,
-- supplier_id, the columns a share slices spend by (flags, exclusion reason, source of the
-- category...) and spend_gbp, already cut to the period and councils) netted over the whole period,
-- the rows every share of spend is computed over (known_share). The one share rule: credits and
-- refunds are netted against payments to the same supplier over the period, whatever the slice
-- they fall in (a credit coded off contract or without a category still nets against the
-- supplier's invoices). A supplier netting to more than nothing has its net spread over its
-- slices that are positive, in proportion to them (as they are when it has no credit larger than
-- a slice's payments), so each slice is counted once and no share leaves 0..1; a supplier netting
-- to nothing or less has its net on one row (share_left_out counts it, the shares leave it out).
-- So the spend a share leaves out is one figure per scope, whatever the share slices by.
create or replace macro supplier_net_spend(spend) as table
    with
    slices as (
        select * exclude (spend_gbp), sum(spend_gbp) as spend_gbp
        from query_table(spend)
        group by all
    ),
    suppliers as (
        select
            *,
            sum(spend_gbp) over supplier as supplier_gbp,
            sum(greatest(spend_gbp, 0)) over supplier as positive_gbp,
            row_number() over supplier as slice_number
        from slices
        window supplier as (partition by council_id, supplier_id)
    )
    select
        * exclude (spend_gbp, supplier_gbp, positive_gbp, slice_number),
        case
            when supplier_gbp <= 0 then case when slice_number = 1 then supplier_gbp else 0 end
            when positive_gbp = supplier_gbp then spend_gbp  -- no slice nets below nothing
            else greatest(spend_gbp, 0) * supplier_gbp / positive_gbp
        end::double as spend_gbp
    from suppliers;
