"""Supplier matching review: an admin's decisions on candidate merges, kept in reference files.

No Streamlit here. The candidates come from ``mart_supplier_matches_by_pair`` (through
``queries.supplier_match_candidates``). Accepting a pair appends ``alias,canonical`` to
``data/reference/supplier_aliases.csv`` (``map_supplier_names`` applies it at the next build);
rejecting appends the pair to ``supplier_non_matches.csv`` so it is not proposed again. Until the
next build, decided pairs are left out of the list here, so nobody decides a pair twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from starviz import config, queries
from starviz.scope import User

ALIASES = "supplier_aliases.csv"
NON_MATCHES = "supplier_non_matches.csv"
ALIAS_FIELDS = ["alias", "canonical", "decided_by", "decided_on"]
NON_MATCH_FIELDS = ["name_a", "name_b", "decided_by", "decided_on"]
SAME, DIFFERENT = "same", "different"


def _path(name: str) -> Path:
    return config.settings().reference_dir / name


def _read(name: str, fields: list[str]) -> pd.DataFrame:
    path = _path(name)
    if not path.exists() or path.stat().st_size == 0:  # ``record`` opens the file before its first line
        return pd.DataFrame(columns=fields)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def aliases() -> pd.DataFrame:
    return _read(ALIASES, ALIAS_FIELDS)


def non_matches() -> pd.DataFrame:
    return _read(NON_MATCHES, NON_MATCH_FIELDS)


def decided_pairs() -> set[frozenset[str]]:
    """Every pair of names already decided either way (by exact name, as written)."""
    same = aliases()
    different = non_matches()
    return {frozenset((a, b)) for a, b in zip(same["alias"], same["canonical"], strict=True)} | {
        frozenset((a, b)) for a, b in zip(different["name_a"], different["name_b"], strict=True)
    }


def candidates(scope: queries.Scope) -> pd.DataFrame:
    """Candidate pairs not yet decided, best first (decisions since the last build included)."""
    decided = decided_pairs()
    limit = config.settings().supplier_match_max_shown
    df = queries.supplier_match_candidates(scope, limit=limit + len(decided))
    keep = pd.Series(
        [frozenset((a, b)) not in decided for a, b in zip(df["supplier_name_a"], df["supplier_name_b"], strict=True)],
        index=df.index,
        dtype=bool,
    )
    out = df.loc[keep].head(limit).reset_index(drop=True)
    out.insert(0, "pair", [f"#{i + 1}" for i in range(len(out))])
    return out


def waiting_for_build(scope: queries.Scope) -> int:
    """Decisions made since the last build that the database does not reflect yet."""
    decided = decided_pairs()
    if not decided:
        return 0
    df = queries.supplier_match_candidates(scope, limit=10**6)
    return sum(frozenset((a, b)) in decided for a, b in zip(df["supplier_name_a"], df["supplier_name_b"], strict=True))


def _canonical(name: str, known: pd.DataFrame) -> str:
    """Follow existing aliases, so A->B then B->C leaves nothing pointing at a merged-away name."""
    seen = {name}
    mapping = dict(zip(known["alias"], known["canonical"], strict=True))
    while name in mapping and mapping[name] not in seen:
        name = mapping[name]
        seen.add(name)
    return name


def record(pairs: Iterable[tuple[str, str]], decision: str, user: User, today: dt.date | None = None) -> int:
    """Append decisions on (name kept, name merged into it) pairs; returns how many were new.

    ``same``: the second name becomes an alias of the first. ``different``: never proposed again.
    Only a role allowed to review suppliers may decide (PermissionError otherwise).
    """
    if not user.can("supplier_review"):
        raise PermissionError(f"{user.username} may not decide supplier matches")
    if decision not in (SAME, DIFFERENT):
        raise ValueError(f"decision must be {SAME!r} or {DIFFERENT!r}, got {decision!r}")
    today = (today or dt.date.today()).isoformat()
    name, fields = (ALIASES, ALIAS_FIELDS) if decision == SAME else (NON_MATCHES, NON_MATCH_FIELDS)
    path = _path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", newline="", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # two admins deciding at once append whole lines, never interleaved
        try:
            decided = decided_pairs()
            known = aliases()
            rows = []
            for kept, merged in pairs:
                if not kept or not merged or kept == merged or frozenset((kept, merged)) in decided:
                    continue
                decided.add(frozenset((kept, merged)))
                if decision == SAME:
                    rows.append([merged, _canonical(kept, known), user.username, today])
                else:
                    rows.append([kept, merged, user.username, today])
            fh.seek(0, 2)
            writer = csv.writer(fh, lineterminator="\n")
            if fh.tell() == 0:
                writer.writerow(fields)
            writer.writerows(rows)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    if rows:
        from starviz import auth

        what = "; ".join(f"{r[0]} -> {r[1]}" if decision == SAME else f"{r[0]} / {r[1]}" for r in rows)
        auth.audit("supplier merge" if decision == SAME else "supplier non-match", what, user.username)
    return len(rows)


def pair_label(candidates: pd.DataFrame, pair: str) -> str:
    """How a pair reads in a picker: '#3 ABC Cleaning Ltd ↔ A.B.C. Cleaning (0.94)'."""
    row = candidates[candidates["pair"] == pair]
    if row.empty:
        return pair
    r = row.iloc[0]
    return f"{pair} {r['supplier_name_a']} ↔ {r['supplier_name_b']} ({r['score']:.2f})"


def decide(candidates: pd.DataFrame, picked: Iterable[str], decision: str, user: User) -> int:
    """Record one decision for the pairs picked (by their '#n' label) from ``candidates``."""
    chosen = candidates[candidates["pair"].isin(list(picked))]
    return record(zip(chosen["supplier_name_a"], chosen["supplier_name_b"], strict=True), decision, user)
