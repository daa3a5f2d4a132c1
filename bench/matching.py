"""Supplier matching measured on a labelled set of real supplier-name pairs
(``tests/data/supplier_pairs.csv``: same or different, built by hand from the real samples).

The names go through the build's own SQL (``map_supplier_names`` and
``mart_supplier_matches_by_pair``) in an in-memory database: side a of each pair as one council's
ledger, side b as another's, with the VAT numbers the ledgers gave. A pair is *merged* when both
names get one ``supplier_id``, *proposed* when it is a candidate for review. Figures:
- merge precision: labelled-same share of merged pairs (a wrong merge is silent, so this must be high);
- recall: labelled-same pairs merged or proposed for review (a missed pair is never seen);
- merge recall: labelled-same pairs merged without review.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from starviz import build, config

PAIRS = config.ROOT / "tests" / "data" / "supplier_pairs.csv"


@dataclass
class Outcome:
    kind: str
    name_a: str
    name_b: str
    same: bool
    merged: bool
    proposed: bool
    evidence: str
    score: float | None = None  # the matching score when proposed


def _sql(relative: str) -> str:
    return (config.ROOT / "sql" / relative).read_text()


def outcomes(pairs_path: Path = PAIRS) -> list[Outcome]:
    with pairs_path.open(newline="", encoding="utf-8") as fh:
        pairs = list(csv.DictReader(fh))
    con = duckdb.connect()
    for path in build.view_order(sorted((config.ROOT / "sql" / "00_functions").glob("*.sql"))):
        con.execute(path.read_text())  # a macro using another comes after it, as in the build
    build._load_config_tables(con, {}, config.settings().reference_dir)
    con.execute("delete from ref_supplier_aliases; delete from ref_supplier_non_matches")
    rows = [("a", p["name_a"], p["vat_a"] or None) for p in pairs] + [("b", p["name_b"], p["vat_b"] or None) for p in pairs]
    con.execute(
        "create table names (council_id varchar, supplier_name varchar, vat_number varchar, "
        "company_number varchar, amount_gbp decimal(18, 2))"
    )
    con.executemany("insert into names values (?, ?, ?, null, 1)", rows)
    # the ledgers as the build's core would give them: a 35-character name may be cut short
    con.execute(
        "create table fct_spend_lines as select distinct council_id, supplier_name, length(supplier_name) = 35 "
        "as is_name_truncated, company_number, vat_number, amount_gbp from names"
    )
    con.execute(
        "create table stg_contracts (council_id varchar, supplier_name varchar, supplier_key varchar, "
        "company_number varchar, vat_number varchar, charity_number varchar)"
    )
    con.execute(  # no Find a Tender notices in the labelled set
        "create table stg_notice_contracts (council_id varchar, supplier_name varchar, supplier_key varchar, "
        "company_number varchar)"
    )
    con.execute(_sql("20_core/map_supplier_names.sql"))
    con.execute(
        "create table dim_suppliers as select supplier_id, min(supplier_name) as supplier_name, "
        "null::varchar as company_number, null::varchar as charity_number from map_supplier_names group by 1"
    )
    con.execute(
        "create table fct_spend as select m.supplier_id, s.council_id, s.amount_gbp from fct_spend_lines s "
        "join map_supplier_names m using (council_id, supplier_name)"
    )
    con.execute(_sql("30_marts/mart_supplier_matches_by_pair.sql"))
    ids = dict(
        ((c, n), i) for c, n, i in con.execute("select council_id, supplier_name, supplier_id from map_supplier_names").fetchall()
    )
    evidence_column = (
        "evidence" if "evidence" in [c[0] for c in con.execute("describe mart_supplier_matches_by_pair").fetchall()] else "'name'"
    )
    proposed = {
        frozenset((a, b)): (e, s)
        for a, b, e, s in con.execute(
            f"select supplier_id_a, supplier_id_b, {evidence_column}, score from mart_supplier_matches_by_pair"
        ).fetchall()
    }
    out = []
    for p in pairs:
        ia, ib = ids[("a", p["name_a"])], ids[("b", p["name_b"])]
        key = frozenset((ia, ib))
        out.append(
            Outcome(
                p["kind"],
                p["name_a"],
                p["name_b"],
                p["same"] == "1",
                ia == ib,
                key in proposed,
                proposed.get(key, ("", None))[0],
                proposed.get(key, ("", None))[1],
            )
        )
    return out


def figures(results: list[Outcome]) -> dict[str, float]:
    same = [r for r in results if r.same]
    merged = [r for r in results if r.merged]
    return {
        "pairs": len(results),
        "same": len(same),
        "merge_precision": sum(r.same for r in merged) / len(merged) if merged else 1.0,
        "recall": sum(r.merged or r.proposed for r in same) / len(same),
        "merge_recall": sum(r.merged for r in same) / len(same),
        "proposal_precision": (sum(r.same for r in results if r.proposed) / max(1, sum(r.proposed for r in results))),
    }


if __name__ == "__main__":
    res = outcomes()
    print(figures(res))
    for r in res:
        if (r.same and not (r.merged or r.proposed)) or (r.merged and not r.same):
            print("MISS" if r.same else "WRONG MERGE", r.kind, repr(r.name_a), repr(r.name_b))
