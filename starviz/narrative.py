"""Words from numbers: the KPI scorecard as a table a person reads, and the plain-English monthly
summary that goes into the monthly performance report.

Pure Python on query results (no Streamlit, no SQL): ``queries.kpi_scorecard`` gives one row per KPI
with its latest value, target and RAG over every council reporting it, and for the month before and
the same month a quarter and a year earlier, the KPI in both months over the councils that reported it
in both. A change over fewer councils than the value says so, in the same words on the page, in the
export and in the summary ("over Stockport (Trafford reported in April 2025 only)").
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import config
from starviz.fmt import in_unit, missing
from starviz.nodata import NO_DATA
from starviz.queries.kpis import COMPARISONS

RAG_LABELS = {"green": "Green", "amber": "Amber", "red": "Red", "none": "No target", "no data": NO_DATA}
RAG_ORDER = {"red": 0, "amber": 1, "green": 2, "none": 3, "no data": 4}


def format_change(now: float | None, before: float | None, unit: str) -> str:
    """Change between two values of a KPI: percentage points for percentages, else per cent; "no data"
    when the value has none (the same words as the value), "–" when there is nothing before to compare."""
    if missing(now):
        return NO_DATA
    if missing(before):
        return "–"
    if unit == "percent":
        return f"{now - before:+.1f} pp"
    if before == 0:
        return "new" if now else "±0"
    return f"{(now - before) / abs(before) * 100:+.1f}%"


# How each change is named in a sentence, by the scorecard's column prefix.
CHANGE_NAMES = {"previous": "Change on last month", "quarter_ago": "Change on the quarter", "year_ago": "Change on the year"}


def names_text(names) -> str:
    """Council names as a person lists them: "Stockport", "Stockport and Trafford", "Bury, Stockport and Trafford"."""
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}" if names else ""


def _months(row, comparison: str) -> tuple[str, str]:
    now = pd.Timestamp(row["month"])
    return f"{now - pd.DateOffset(months=COMPARISONS[comparison]):%B %Y}", f"{now:%B %Y}"


def _listed(value) -> list:
    return [] if value is None or (not hasattr(value, "__len__") and pd.isna(value)) else list(value)


def change_coverage(row, comparison: str) -> tuple[str, str] | None:
    """Whom a change compares when it is not every council reporting the KPI: the councils compared
    ("Stockport and Trafford") and why the others are left out ("Rochdale reported in May 2025 only,
    Trafford in April 2025 only"); ("", why) when no council reported it in both months; None when the
    change is over the same councils as the value, or there is nothing before to compare."""
    common = _listed(row.get(f"{comparison}_common"))
    only_now = _listed(row.get(f"{comparison}_only_now"))
    only_then = _listed(row.get(f"{comparison}_only_then"))
    then, now = _months(row, comparison)
    if not common:
        return ("", f"no council reported it in both {then} and {now}") if only_then else None
    if not only_now and not only_then:
        return None
    parts = []
    if only_now:
        parts.append(f"{names_text(only_now)} reported in {now} only")
    if only_then:
        parts.append(f"{names_text(only_then)}{' reported' if not parts else ''} in {then} only")
    return names_text(common), ", ".join(parts)


def change_note(row, comparison: str) -> str:
    """The sentence saying whom a change compares, or "" when it is everyone reporting the KPI."""
    coverage = change_coverage(row, comparison)
    if coverage is None:
        return ""
    common, why = coverage
    name = CHANGE_NAMES[comparison]
    return f"{name} over {common}: {why}." if common else f"{name} not compared: {why}."


def change_notes(row) -> str:
    """Every change's note for one KPI, in one cell ("" when every change compares everyone)."""
    return " ".join(note for c in COMPARISONS if (note := change_note(row, c)))


def changes_compared(df: pd.DataFrame) -> list[tuple[str, str]]:
    """(KPI, notes) for each KPI with a change not over every council reporting it, in scorecard order."""
    notes = [(kpi_label(r), change_notes(r)) for _, r in df.iterrows()] if len(df) else []
    return [(kpi, note) for kpi, note in notes if note]


def change_text(row, comparison: str) -> str:
    """A change as the scorecard shows it: "no data" when the KPI has no value, "–" when nothing is
    compared, else the change over the councils in both months, naming them when they are not all
    ("+6.7 pp over Stockport and Trafford")."""
    if missing(row["value"]):
        return NO_DATA
    before, now = row.get(f"{comparison}_value"), row.get(f"{comparison}_like_value")
    if missing(before) or missing(now):
        return "–"
    text = format_change(now, before, row["unit"])
    coverage = change_coverage(row, comparison)
    return f"{text} over {coverage[0]}" if coverage else text


def kpi_label(row) -> str:
    """The KPI's name, with STAR's own KPIs marked so that the same code for the councils is not confused."""
    return f"{row['kpi_name']} ({row['reported_by']})" if row["is_shared_service"] else str(row["kpi_name"])


def scorecard_table(df: pd.DataFrame, group_by: str, trend: bool = True) -> pd.DataFrame:
    """The scorecard as displayed and exported: one row per KPI, grouped by perspective or objective
    (``trend``: with the last 12 months as a list, for a sparkline; leave it out of exports). Changes
    are over the councils that reported the KPI in both months; "Changes compare" says whom, when
    that is not every council reporting it (blank when it is)."""
    order = "perspective_order" if group_by == "perspective" else "objective_order"
    rows = df.sort_values([order, group_by, "is_shared_service", "kpi_code"], kind="stable")
    return (
        pd.DataFrame(
            {
                "Group": rows[group_by],
                "KPI": [kpi_label(r) for _, r in rows.iterrows()],
                "Value": [in_unit(v, u) for v, u in zip(rows["value"], rows["unit"], strict=True)],
                "Target": [in_unit(v, u) for v, u in zip(rows["target"], rows["unit"], strict=True)],
                "Status": [RAG_LABELS.get(r, r) for r in rows["rag"]],
                "On last month": [change_text(r, "previous") for _, r in rows.iterrows()],
                "Quarter on quarter": [change_text(r, "quarter_ago") for _, r in rows.iterrows()],
                "Year on year": [change_text(r, "year_ago") for _, r in rows.iterrows()],
                "Changes compare": [change_notes(r) for _, r in rows.iterrows()],
                "Last 12 months": [[float(v) for v in t] if hasattr(t, "__iter__") else [] for t in rows["trend"]],
                "Reported by": rows["reported_by"],
                "Month": [m.strftime("%b %Y") for m in pd.to_datetime(rows["month"])],
                "Source": ["computed from the data" if s == "data" else "KPI extract" for s in rows["source"]],
                "Code": rows["kpi_code"],
            }
        )
        .reset_index(drop=True)
        .drop(columns=[] if trend else ["Last 12 months"])
    )


PP_FORMAT = '+0.0" pp";-0.0" pp";0.0" pp"'
CHANGE_FORMAT = "+0.0%;-0.0%;0.0%"
_VALUE_FORMATS = {"gbp": "£#,##0;-£#,##0", "percent": "0.0%"}


def scorecard_export(df: pd.DataFrame, group_by: str) -> tuple[pd.DataFrame, dict[str, list[str | None]]]:
    """The scorecard for a spreadsheet: the same rows and columns as ``scorecard_table`` with values,
    targets and changes as numbers (a percentage as a fraction, a change in percentage points as
    points), and each cell's number format, since every KPI has its own unit."""
    order = "perspective_order" if group_by == "perspective" else "objective_order"
    rows = df.sort_values([order, group_by, "is_shared_service", "kpi_code"], kind="stable")
    table = scorecard_table(df, group_by, trend=False)
    units = list(rows["unit"])

    def number(value, unit):
        return None if missing(value) else float(value) / 100 if unit == "percent" else float(value)

    def value_format(value, unit):
        if unit in _VALUE_FORMATS:
            return _VALUE_FORMATS[unit]
        return "#,##0" if missing(value) or abs(value) >= 100 or float(value).is_integer() else "#,##0.0"

    def change(now, before, unit):
        if missing(now) or missing(before):
            return None
        if unit == "percent":
            return float(now - before)
        if before == 0:
            return "new" if now else 0.0
        return float((now - before) / abs(before))

    formats: dict[str, list[str | None]] = {}
    for column, field in (("Value", "value"), ("Target", "target")):
        table[column] = pd.Series([number(v, u) for v, u in zip(rows[field], units, strict=True)], dtype=object)
        formats[column] = [value_format(v, u) for v, u in zip(rows[field], units, strict=True)]
    # a KPI whose data is not loaded says so (an empty cell would read as not reported, 0 as a value)
    table["Value"] = [NO_DATA if r == "no data" else v for v, r in zip(table["Value"], rows["rag"], strict=True)]
    for column, comparison in (
        ("On last month", "previous"),
        ("Quarter on quarter", "quarter_ago"),
        ("Year on year", "year_ago"),
    ):
        # the change over the councils in both months, as on the page ("Changes compare" says whom)
        table[column] = pd.Series(
            [
                None if missing(v) else change(a, b, u)
                for v, a, b, u in zip(
                    rows["value"], rows[f"{comparison}_like_value"], rows[f"{comparison}_value"], units, strict=True
                )
            ],
            dtype=object,
        )
        formats[column] = [PP_FORMAT if u == "percent" else CHANGE_FORMAT for u in units]
    return table, formats


def changes_not_compared(df: pd.DataFrame, comparison: str = "previous") -> list[str]:
    """The KPIs with a value whose change is not shown because no council reported them in both months."""
    if df.empty:
        return []
    return [
        kpi_label(r)
        for _, r in df.iterrows()
        if not missing(r["value"]) and (coverage := change_coverage(r, comparison)) and not coverage[0]
    ]


def rag_counts(df: pd.DataFrame) -> dict[str, int]:
    counts = df["rag"].value_counts().to_dict() if len(df) else {}
    return {k: int(counts.get(k, 0)) for k in ("green", "amber", "red", "none", "no data")}


def movers(df: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` KPIs that moved most since the month before, largest first, each over the councils
    that reported it in both months (``value`` and ``target`` are theirs in the result). A movement is
    measured against the target where there is one (a fall of 3 on a target of 3 is a big move), else
    against the value before; KPIs that did not move are not movers."""
    frame = df[df["previous_value"].notna() & df["previous_like_value"].notna() & df["value"].notna()].copy()
    if frame.empty:
        return frame
    frame["value"], frame["target"] = frame["previous_like_value"], frame["previous_like_target"]
    change = frame["value"] - frame["previous_value"]
    scale = frame["target"].abs().where(frame["target"].notna() & (frame["target"] != 0), frame["previous_value"].abs())
    frame["change"] = change
    frame["movement"] = (change / scale.where(scale != 0)).abs().fillna(change.abs().gt(0).astype(float))
    frame = frame[frame["movement"] > 0]
    return frame.sort_values(["movement", "kpi_code"], ascending=[False, True], kind="stable").head(n)


def _direction(row) -> str:
    rose = row["value"] > row["previous_value"]
    better = rose == bool(row["higher_is_better"])
    return ("rose" if rose else "fell"), ("better" if better else "worse")


def _mover_sentence(row) -> str:
    verb, judgement = _direction(row)
    unit = row["unit"]
    before, now = in_unit(row["previous_value"], unit), in_unit(row["value"], unit)
    if unit == "percent":
        size = f" {abs(row['value'] - row['previous_value']):.1f} pp"
    elif row["previous_value"]:
        size = f" {abs(row['value'] - row['previous_value']) / abs(row['previous_value']) * 100:.0f}%"
    else:
        size = ""
    target = "" if missing(row["target"]) else f" ({_target_text(row)})"
    coverage = change_coverage(row, "previous")
    over = f" over {coverage[0]} ({coverage[1]})" if coverage else ""
    return f"{kpi_label(row)} {verb}{size}{over}, from {before} to {now}{target}: {judgement}."


def _target_text(row, of: str = "") -> str:
    target = in_unit(row["target"], row["unit"])
    return f"target{of} {target}" if row["higher_is_better"] else f"target{of} no more than {target}"


def _status_sentence(row) -> str:
    target = "with no target" if missing(row["target"]) else f"against a {_target_text(row, ' of')}"
    coverage = change_coverage(row, "previous")
    over = f" (compared over {coverage[0]}: {coverage[1]})" if coverage else ""
    return f"{kpi_label(row)}, {in_unit(row['value'], row['unit'])} {target}{over}"


def groups_with_kpis(groups: pd.DataFrame, df: pd.DataFrame, group_by: str) -> tuple[list[str], list[str]]:
    """The configured groups (perspectives or objectives, in order) that hold KPIs, and those that hold none."""
    present = set(df[group_by]) if len(df) else set()
    names = list(groups["name"]) + sorted(present - set(groups["name"]))
    return [g for g in names if g in present], [g for g in names if g not in present]


def monthly_summary(df: pd.DataFrame, month: dt.date, who: str, n_movers: int | None = None) -> str:
    """What changed in ``month``, in sentences ready to paste into the monthly performance report:
    how many KPIs are green, amber and red, the largest movers since the month before, and the KPIs
    that turned red or green. ``df`` is ``queries.kpi_scorecard``; ``who`` names the councils (the
    shared service reporting its own KPIs is added). ``n_movers`` defaults to the configured number."""
    if n_movers is None:
        n_movers = config.settings().kpi_summary_movers
    shared = list(dict.fromkeys(df.loc[df["is_shared_service"], "reported_by"])) if len(df) else []
    who = " and ".join([who, *shared]) if shared else who
    month_text = f"{month:%B %Y}"
    if df.empty:
        return f"KPI summary for {month_text} ({who}): no KPI has been reported yet."
    current = df[pd.to_datetime(df["month"]).dt.date == month]
    late = df[pd.to_datetime(df["month"]).dt.date != month]
    counts = rag_counts(current)
    judged = counts["green"] + counts["amber"] + counts["red"]
    previous = f"{(pd.Timestamp(month) - pd.DateOffset(months=1)):%B %Y}"
    lines = [f"KPI summary for {month_text} ({who})", ""]
    if judged:
        lines.append(
            f"Of {judged} KPI{'s' if judged != 1 else ''} with a target, {counts['green']} "
            f"{'is' if counts['green'] == 1 else 'are'} on target (green), {counts['amber']} close to it (amber) "
            f"and {counts['red']} off target (red)."
        )
    elif len(current) > counts["no data"]:
        lines.append(f"{len(current) - counts['no data']} KPIs reported; none has a target.")
    absent = current[current["rag"] == "no data"]
    if len(absent):
        names = ", ".join(kpi_label(r) for _, r in absent.iterrows())
        one = len(absent) == 1
        lines.append(
            f"{NO_DATA.capitalize()} for {names}: the data behind {'it' if one else 'them'} is not loaded, "
            f"so {'it is' if one else 'they are'} counted neither on nor off target."
        )
    top = movers(current, n_movers)
    lines.append("")
    if current["value"].isna().all():
        lines.append(f"Nothing to compare with {previous}: no KPI has data.")
    elif top.empty:
        lines.append(f"No KPI moved since {previous}.")
    else:
        lines.append(f"Largest movers since {previous}:")
        lines += [f"- {_mover_sentence(r)}" for _, r in top.iterrows()]
    if not_compared := changes_not_compared(current):
        lines.append(f"Not compared with {previous} (no council reported them in both months): {', '.join(not_compared)}.")

    # turned red or green like with like: the councils in both months were not red (green) before
    # and are now, and so is everyone reporting it now
    def turned(status: str) -> pd.DataFrame:
        return current[
            (current["rag"] == status)
            & (current["previous_like_rag"] == status)
            & current["previous_rag"].notna()
            & (current["previous_rag"] != status)
        ]

    turned_red, turned_green = turned("red"), turned("green")
    lines.append("")
    lines.append(
        "Turned red: " + ("; ".join(_status_sentence(r) for _, r in turned_red.iterrows()) + "." if len(turned_red) else "none.")
    )
    lines.append(
        "Turned green: "
        + ("; ".join(_status_sentence(r) for _, r in turned_green.iterrows()) + "." if len(turned_green) else "none.")
    )
    if len(late):
        names = ", ".join(f"{kpi_label(r)} (latest {pd.Timestamp(r['month']):%b %Y})" for _, r in late.iterrows())
        lines += ["", f"Not yet reported for {month_text}: {names}."]
    return "\n".join(lines)
