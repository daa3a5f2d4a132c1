"""Words from numbers: the KPI scorecard as a table a person reads, and the plain-English monthly
summary that goes into the monthly performance report.

Pure Python on query results (no Streamlit, no SQL): ``queries.kpi_scorecard`` gives one row per KPI
with its latest value, target, RAG, the month before and the same month a quarter and a year earlier.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import config
from starviz.fmt import in_unit, missing
from starviz.nodata import NO_DATA

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


def kpi_label(row) -> str:
    """The KPI's name, with STAR's own KPIs marked so that the same code for the councils is not confused."""
    return f"{row['kpi_name']} ({row['reported_by']})" if row["is_shared_service"] else str(row["kpi_name"])


def scorecard_table(df: pd.DataFrame, group_by: str, trend: bool = True) -> pd.DataFrame:
    """The scorecard as displayed and exported: one row per KPI, grouped by perspective or objective
    (``trend``: with the last 12 months as a list, for a sparkline; leave it out of exports)."""
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
                "On last month": [
                    format_change(a, b, u) for a, b, u in zip(rows["value"], rows["previous_value"], rows["unit"], strict=True)
                ],
                "Quarter on quarter": [
                    format_change(a, b, u) for a, b, u in zip(rows["value"], rows["quarter_ago_value"], rows["unit"], strict=True)
                ],
                "Year on year": [
                    format_change(a, b, u) for a, b, u in zip(rows["value"], rows["year_ago_value"], rows["unit"], strict=True)
                ],
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
    for column, field in (
        ("On last month", "previous_value"),
        ("Quarter on quarter", "quarter_ago_value"),
        ("Year on year", "year_ago_value"),
    ):
        table[column] = pd.Series(
            [change(a, b, u) for a, b, u in zip(rows["value"], rows[field], units, strict=True)], dtype=object
        )
        formats[column] = [PP_FORMAT if u == "percent" else CHANGE_FORMAT for u in units]
    return table, formats


def changes_withheld(df: pd.DataFrame) -> list[str]:
    """The KPIs whose change on last month is not shown: other councils reported it in that month."""
    if df.empty:
        return []
    return list(df.loc[df["previous_councils_differ"].fillna(False).astype(bool), "kpi_name"])


def rag_counts(df: pd.DataFrame) -> dict[str, int]:
    counts = df["rag"].value_counts().to_dict() if len(df) else {}
    return {k: int(counts.get(k, 0)) for k in ("green", "amber", "red", "none", "no data")}


def movers(df: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` KPIs that moved most since the month before, largest first. A movement is measured
    against the target where there is one (a fall of 3 on a target of 3 is a big move), else against
    the value before; KPIs that did not move are not movers."""
    frame = df[df["previous_value"].notna() & df["value"].notna()].copy()
    if frame.empty:
        return frame
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
    return f"{kpi_label(row)} {verb}{size}, from {before} to {now}{target}: {judgement}."


def _target_text(row, of: str = "") -> str:
    target = in_unit(row["target"], row["unit"])
    return f"target{of} {target}" if row["higher_is_better"] else f"target{of} no more than {target}"


def _status_sentence(row) -> str:
    target = "with no target" if missing(row["target"]) else f"against a {_target_text(row, ' of')}"
    return f"{kpi_label(row)}, {in_unit(row['value'], row['unit'])} {target}"


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
    if top.empty:
        lines.append(f"No KPI moved since {previous}.")
    else:
        lines.append(f"Largest movers since {previous}:")
        lines += [f"- {_mover_sentence(r)}" for _, r in top.iterrows()]
    turned_red = current[(current["rag"] == "red") & current["previous_rag"].notna() & (current["previous_rag"] != "red")]
    turned_green = current[(current["rag"] == "green") & current["previous_rag"].notna() & (current["previous_rag"] != "green")]
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
