-- One row per call: a supplier's company, charity or VAT number as one spelling, whatever the ledger
-- or register wrote: upper case without spaces or punctuation; a company number padded to Companies
-- House's eight characters ('123456' -> '00123456'); null when nothing is left. `kind` is 'company',
-- 'charity' or 'vat'.
create or replace macro supplier_number(value, kind) as (
    case kind
        when 'company' then nullif(lpad(regexp_replace(upper(value), '[^A-Z0-9]', '', 'g'), 8, '0'), '00000000')
        when 'charity' then nullif(regexp_replace(upper(value), '[^0-9-]', '', 'g'), '')
        when 'vat' then nullif(regexp_replace(upper(value), '[^A-Z0-9]', '', 'g'), '')
    end
);
