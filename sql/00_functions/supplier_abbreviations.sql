-- One row per call: the words ledgers abbreviate, written one way ("AND COMPANY" -> "AND CO",
-- "ASSOCIATION" -> "ASSOC", "BROTHERS" -> "BROS", "SERVICE"/"SVCS" -> "SERVICES",
-- "MAINTENANCE" -> "MAINT", "MANAGEMENT"/"MGT" -> "MGMT", "FOUNDATION TRUST" -> "FT",
-- "METROPOLITAN BOROUGH COUNCIL" -> "MBC": "Rochdale MBC" and "Rochdale Metropolitan Borough Council"
-- are one council).
create or replace macro supplier_abbreviations(text) as (
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        text,
        '\bMETROPOLITAN BOROUGH COUNCIL\b', 'MBC', 'g'),
        '\bCOMMUNITY INTEREST COMPANY\b', 'CIC', 'g'),
        '\bCOMPANY\b', 'CO', 'g'),
        '\b(ASSOCIATION|ASSOCN|ASSN)\b', 'ASSOC', 'g'),
        '\bBROTHERS\b', 'BROS', 'g'),
        '\b(SERVICE|SVCS|SVC|SERVS|SERV)\b', 'SERVICES', 'g'),
        '\b(MAINTENANCE|MAINTNCE|MAINTAINANCE)\b', 'MAINT', 'g'),
        '\b(MANAGEMENT|MGT|MNGT)\b', 'MGMT', 'g'),
        '\bINTERNATIONAL\b', 'INTL', 'g'),
        '\bFOUNDATION TRUST\b', 'FT', 'g'),
        '\bCENTER\b', 'CENTRE', 'g')
);
