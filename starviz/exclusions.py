"""The reviewed exclusion rules (``data/reference/exclusions.csv``) as SQL macros.

No Streamlit here. Each rule is a regular expression over a supplier's matching key
(``supplier_key``: upper case, "&" as AND, punctuation as spaces, no legal suffix), the reason it
gives, and optionally a pattern the line's department, expense type or purpose must match too
(the Environment Agency is paid both a flood defence levy and ordinary fees). The first matching
rule wins; the reason ``kept`` marks a reviewed look-alike that stays addressable.

The rules become one ``case`` expression with the patterns written in as constants: DuckDB compiles
a constant pattern once, whereas a pattern read from a table column is compiled again for every
row (a join of 20,000 names with 50 rules took 17 s; the macro takes 0.3 s).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

KEPT = "kept"
FILE = "exclusions.csv"


@dataclass(frozen=True)
class Rule:
    pattern: str
    reason: str
    purpose_pattern: str
    spelling_class: str
    example: str
    note: str


def rules(reference_dir: Path) -> list[Rule]:
    """The rules in file order; a pattern that does not compile names its row."""
    path = reference_dir / FILE
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row_number, row in enumerate(csv.DictReader(fh), start=2):
            rule = Rule(**{field: (row.get(field) or "").strip() for field in Rule.__dataclass_fields__})
            for column in ("pattern", "purpose_pattern"):
                try:
                    re.compile(getattr(rule, column))
                except re.error as exc:
                    raise ValueError(f"{path.name}: row {row_number}, column {column}: {exc}") from None
            if not rule.pattern or not rule.reason:
                raise ValueError(f"{path.name}: row {row_number}: a rule needs a pattern and a reason")
            out.append(rule)
    return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def macro_sql(rule_list: list[Rule]) -> list[str]:
    """``exclusion_reason(key, line_text)``: the reason, or null when addressable;
    ``exclusion_needs_text(key)``: whether a rule for this key also reads the line's text."""
    whens = []
    for rule in rule_list:
        condition = f"regexp_matches(key, {_literal(rule.pattern)})"
        if rule.purpose_pattern:
            condition += f" and regexp_matches(upper(coalesce(line_text, '')), {_literal(rule.purpose_pattern)})"
        whens.append(f"when {condition} then {_literal(rule.reason)}")
    reason = "null" if not whens else f"nullif(case {' '.join(whens)} end, {_literal(KEPT)})"
    text_patterns = [f"regexp_matches(key, {_literal(r.pattern)})" for r in rule_list if r.purpose_pattern]
    needs_text = " or ".join(text_patterns) or "false"
    return [
        f"create or replace macro exclusion_reason(key, line_text) as ({reason})",
        f"create or replace macro exclusion_needs_text(key) as ({needs_text})",
    ]
