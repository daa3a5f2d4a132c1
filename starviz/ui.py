"""Streamlit pieces every page shares: the filters kept in the URL, the scope, choices kept in the URL,
chart exports, table downloads, metric cards, banners. Tables are drawn by ``tables``, the Board's
slides by ``slides``, the spend page's cube view by ``spend_view``."""

from __future__ import annotations

import datetime as dt
import re

import streamlit as st

from starviz import auth, escape, queries
from starviz.scope import (
    FILTER_KEYS,
    Filters,
    User,
    add_months,
    financial_year,
    fy_bounds,
    month_ranges,
    months_between,
    parse_filters,
)

FILTERS = "starviz_filters"  # session state key of the shared filters


def _period_widgets(f: Filters, months: list[dt.date]) -> dict:
    years = sorted({financial_year(m) for m in months}, reverse=True)
    kinds = {"fy": "Financial year", "quarter": "Quarter", "months": "Months", "all": "All years"}
    kind = st.sidebar.radio(
        "Period", list(kinds), format_func=kinds.get, index=list(kinds).index(f.period), horizontal=True, key="f_period"
    )
    out: dict = {"period": kind}
    if kind in ("fy", "quarter") and years:
        fy = f.fy if f.fy in years else years[0]
        out["fy"] = st.sidebar.selectbox("Financial year", years, index=years.index(fy), key="f_fy")
        if kind == "quarter":
            out["quarter"] = st.sidebar.selectbox(
                "Quarter",
                [1, 2, 3, 4],
                index=(f.quarter or 1) - 1,
                key="f_q",
                format_func=lambda q: f"Q{q} ({['Apr–Jun', 'Jul–Sep', 'Oct–Dec', 'Jan–Mar'][q - 1]})",
            )
    elif kind == "months" and months:
        start = f.month_from if f.month_from in months else months[max(0, len(months) - 12)]
        end = f.month_to if f.month_to in months else months[-1]
        out["month_from"], out["month_to"] = st.sidebar.select_slider(
            "Months", options=months, value=(start, end), format_func=lambda m: m.strftime("%b %Y"), key="f_months"
        )
    else:  # no data months yet: nothing to pick
        out["period"] = "all"
    return out


def render_filters(user: User) -> Filters:
    """Sidebar filters, initialised from the URL and written back to it on every run."""
    names = queries.council_names()
    ids = list(names)
    months = queries.months_loaded()
    if FILTERS not in st.session_state:
        parsed, notices = parse_filters(
            st.query_params.to_dict()
            | {k: st.query_params.get_all(k) for k in st.query_params if len(st.query_params.get_all(k)) > 1},
            user=user,
            council_ids=ids,
            months=months,
            names=names,
        )
        st.session_state[FILTERS] = parsed
        st.session_state["starviz_notices"] = notices
    current: Filters = st.session_state[FILTERS]
    st.sidebar.header("Filters")
    visible = list(user.allowed(ids))
    chosen = st.sidebar.multiselect(
        "Councils",
        visible,
        default=[c for c in current.councils if c in visible] if not current.all_councils else [],
        format_func=names.get,
        placeholder="All councils" if len(visible) > 1 else names.get(visible[0], ""),
        key="f_councils",
        disabled=len(visible) <= 1,
    )
    period = _period_widgets(current, months)
    addressable = st.sidebar.toggle(
        "Addressable spend only",
        value=current.addressable_only,
        key="f_addr",
        help="Leaves out levies, HMRC, pensions, redacted personal payments and payments to other authorities.",
    )
    filters = Filters(
        councils=tuple(chosen) or tuple(visible), all_councils=not chosen, addressable_only=addressable, names=names, **period
    )
    st.session_state[FILTERS] = filters
    # Filters own their keys in the link; other keys (a slide, a selected supplier) are kept.
    params = {k: v for k, v in st.query_params.to_dict().items() if k not in FILTER_KEYS} | filters.to_params()
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    return filters


def scope() -> queries.Scope:
    """The current user's scope with the shared filters (rendered by app.py before the page)."""
    user = auth.current_user()
    if user is None:  # pages are only reachable after login; this is a second lock on the door
        if _legacy_pages_mode():
            # The first run of a process that has a pages/ folder: until some run has called
            # st.navigation, Streamlit runs a page address (/spend) as the bare file from pages/
            # (its old multipage mode). Leave that mode as st.navigation would and run the same
            # address again: app.py then serves it, the sign-in form or the page, filters kept.
            # (Sending the browser to app.py instead lost the page: a shared link opened Overview.)
            from streamlit.runtime.pages_manager import PagesManager

            PagesManager.uses_pages_directory = False
            st.rerun()
        st.stop()
    return queries.Scope(st.session_state[FILTERS], user)


def _legacy_pages_mode() -> bool:
    from streamlit.runtime.pages_manager import PagesManager

    return bool(PagesManager.uses_pages_directory)


def current_scope() -> queries.Scope | None:
    """The scope when the filters have been drawn and someone is signed in, else None (no redirect)."""
    if FILTERS in st.session_state and auth.current_user() is not None:
        return queries.Scope(st.session_state[FILTERS], auth.current_user())
    return None


def chart(fig, name: str | None = None, scope: queries.Scope | None = None, **kwargs):
    """A Plotly chart on the STAR template (Streamlit's own theme would override its fonts). With a
    `name`, it gets branded PNG/SVG exports at the named presets, alt text, and a camera button that
    saves under the same name and size. Extra keyword arguments go to `st.plotly_chart`."""
    from starviz import config as cfg
    from starviz import export

    presets = cfg.settings().export_presets
    first = next(iter(presets.values()), None)
    # Every chart exports: a chart without a name is named after its title.
    title_text = fig.layout.title.text if fig.layout.title and fig.layout.title.text else ""
    name = name or re.sub(r"[^a-z0-9]+", "-", re.sub(r"<[^>]+>", " ", title_text).lower()).strip("-")[:60] or None
    if name and scope is None:
        scope = current_scope()
    options = {"displaylogo": False}
    if name and first:
        options["toImageButtonOptions"] = {"filename": name, "width": first.width, "height": first.height, "format": "png"}
    result = st.plotly_chart(fig, theme=None, width="stretch", config=options, **kwargs)
    if shown := export.shown(fig):  # how much of the data the chart draws, as its exports say
        st.caption(shown)
    if name:
        export_controls(fig, name, scope)
    return result


def export_controls(fig, name: str, scope: queries.Scope | None, title: str | None = None) -> None:
    from starviz import config as cfg
    from starviz import export

    if title is None:
        title = (fig.layout.title.text or name.replace("-", " ").capitalize()) if fig.layout.title else name
        title = re.sub(r"<[^>]+>", "", title.split("<br>")[0])  # the headline, not a chart's <sup> note
    subtitle = export.subtitle(fig, scope.filters.label if scope else "")
    alt = export.alt_text(fig, title, subtitle)
    presets = cfg.settings().export_presets
    with st.popover("Export chart", icon=":material/ios_share:"):
        if not export.chromium_path():
            st.info(export.CHROMIUM_HINT)
        else:
            key = st.selectbox("Size", list(presets), format_func=lambda k: presets[k].label, key=f"preset-{name}")
            fmt = st.radio("Format", ["png", "svg"], horizontal=True, format_func=str.upper, key=f"fmt-{name}")
            preset = presets[key]

            def render() -> bytes:
                source = export.source_line(queries.as_at_date())
                art = export.branded(fig, title=title, subtitle=subtitle, source=source, width=preset.width, height=preset.height)
                return export.image(art, fmt, preset.width, preset.height)

            st.download_button(
                f"Download {fmt.upper()}",
                render,
                f"{name}-{key}.{fmt}",
                "image/png" if fmt == "png" else "image/svg+xml",
                key=f"img-{name}",
                icon=":material/download:",
                on_click="ignore",
            )
        st.caption("Alt text, for accessible posts")
        st.markdown("> " + escape.md(alt))
        st.download_button("Alt text (.txt)", alt, f"{name}-alt-text.txt", "text/plain", key=f"alt-{name}", on_click="ignore")


def url_choice(label: str, options: list, param: str, key: str | None = None, default=None, widget: str = "segmented", **kwargs):
    """One choice of a page kept in the address under the short ``?param=`` (so a link reopens the same
    view). The address holds ``str(option)``, and nothing while the default is chosen (as in
    ``url_value``); a value there that is not one of ``options`` falls back to ``default`` (the first
    option when None), never an error. ``widget``: "segmented", "radio" or "select";
    other keyword arguments (format_func, horizontal, ...) go to the widget."""
    assert param not in FILTER_KEYS, f"{param} is a shared filter key"
    if not options:
        return None
    by_text = {str(o): o for o in options}
    default = default if default in options else options[0]
    asked = st.query_params.get(param)
    start = by_text.get(asked, default)
    key = key or param
    if widget == "segmented":
        chosen = st.segmented_control(label, options, default=start, required=True, key=key, **kwargs)
    elif widget == "radio":
        chosen = st.radio(label, options, index=options.index(start), key=key, **kwargs)
    else:
        chosen = st.selectbox(label, options, index=options.index(start), key=key, **kwargs)
    chosen = chosen if chosen in options else default
    # Kept in the address by hand, not with bind="query-params": the shared filters rewrite the whole
    # query string, which Streamlit refuses for a parameter bound to a widget (commit 3129935). As in
    # url_value, the address holds nothing while the choice is the default.
    if chosen == default:
        if param in st.query_params:
            del st.query_params[param]
    elif asked != str(chosen):
        st.query_params[param] = str(chosen)
    return chosen


def url_value(widget, label: str, param: str, *, key: str, default, kind: type = str, many: bool = False, **kwargs):
    """Any keyed widget (``st.toggle``, ``st.slider``, ``st.multiselect``, ``column.text_input``...)
    started from ``?param=`` and kept there, so that a link reopens the same view: on the first run of
    a session whose address names ``param`` the widget starts at that value; afterwards the address
    follows the widget, and holds nothing while the widget shows ``default``. ``kind`` (str, int,
    float, bool) reads the address's text; ``many``: a list of ``kind``, one repeated parameter per value
    (``?cat=A&cat=B``), so a value may hold any character (a category named "Care | Support"). A value the
    address gives that cannot be read, or is not among ``options``, is ignored (the widget starts at
    ``default``), never an error. Other keyword arguments go to the widget."""
    assert param not in FILTER_KEYS, f"{param} is a shared filter key"

    def read(text: str):
        if kind is bool:
            if text not in ("1", "0"):
                raise ValueError(text)
            return text == "1"
        return kind(text)

    def show(value) -> str:
        return ("1" if value else "0") if kind is bool else str(value)

    kwargs["default" if many else "value"] = default  # where the widget starts (multiselect: default=)
    asked = (st.query_params.get_all(param) or None) if many else st.query_params.get(param)
    if asked is not None and key not in st.session_state:
        try:
            value = [read(v) for v in asked if v] if many else read(asked)
        except ValueError:
            value = None
        options = kwargs.get("options")
        known = options is None or all(v in list(options) for v in (value if many else [value]))
        lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
        inside = (
            value is None or many or kind not in (int, float) or ((lo is None or value >= lo) and (hi is None or value <= hi))
        )
        if value is not None and known and inside:
            st.session_state[key] = value
            for start in ("value", "default", "index"):  # the session state starts it; both would warn
                kwargs.pop(start, None)
    value = widget(label, key=key, **kwargs)
    text = [show(v) for v in value] if many else show(value)
    if value == default or (many and list(value) == list(default)):
        if param in st.query_params:
            del st.query_params[param]
    elif asked != text:
        st.query_params[param] = text
    return value


def view_switch(labels: list[str], key: str = "tab") -> str:
    """The part of a page to show, chosen like tabs but kept in the address (``?tab=``) and computed
    alone: ``st.tabs`` runs every tab's queries and charts on every run, this runs only the one open."""
    return url_choice("Show", labels, key, label_visibility="collapsed")


def notices() -> None:
    for text in st.session_state.pop("starviz_notices", []):
        st.warning(text, icon=":material/warning:")


def app_style() -> None:
    """The app's few style rules, once per run. A metric's value scales with its card (a container
    query), so "no data" or "£1,234.5m" reads in full on a laptop's narrow cards instead of being cut
    to "no d…"; at a Board screen's width the cards keep Streamlit's own size. The cards of a row
    stretch to the same height."""
    st.html(
        "<style>[data-testid='stMetric'] {container-type: inline-size;}"
        "[data-testid='stMetricValue'] {font-size: clamp(1.3rem, 20cqi, 2.25rem);}"
        # the cards of a row as tall as its tallest (a wider card's larger value made it taller)
        "[data-testid='stColumn'] [data-testid='stElementContainer']:has(> [data-testid='stMetric'])"
        " {flex-grow: 1; display: flex; flex-direction: column;}"
        "[data-testid='stColumn'] [data-testid='stMetric'] {flex-grow: 1;}</style>"
    )


def metric(label: str, value: str, delta: str | None = None, help: str | None = None, delta_color: str = "normal") -> None:
    st.metric(label, value, delta=delta, help=help, delta_color=delta_color, border=True)


def comparison_notes(cmp: queries.Comparison, filters: Filters) -> list[str]:
    """What the headline shows and what its changes compare, in sentences (Markdown, council names
    escaped): the months shown, the like-for-like months (or why there are none), each council's
    "complete through" month, and any partial latest month the figures hold."""
    period = {"fy": "year", "quarter": "quarter"}.get(filters.period, "period")
    a, b = cmp.window
    span = month_ranges(add_months(a, i) for i in range(months_between(a, b))) if b.year < 9999 and a.year > 1 else "all years"
    notes = [f"Showing {span} as loaded."]
    if cmp.shift is not None:
        if cmp.months:
            notes.append(
                f"Changes compare {month_ranges(cmp.months)} with {month_ranges(cmp.previous_months)}: the months every "
                f"council shown has loaded in full in both {period}s."
            )
        else:
            notes.append(
                f"No change shown: no month of this {period} has every council's spend loaded in full, both in it and "
                f"in the same month of the {period} before."
            )
    loaded = [
        f"{escape.md(c.council)} {c.complete_through:%b %Y}"
        if c.complete_through
        else f"{escape.md(c.council)}: no complete month yet"
        for c in cmp.councils
        if c.months
    ]
    loaded += [f"{escape.md(council)}: no data loaded yet" for council in cmp.awaiting]
    if loaded:
        notes.append("Complete through: " + " · ".join(loaded) + ".")
    if lacking := cmp.not_loaded:  # a council absent from some months is not in their figures, not £0
        notes.append(
            ":material/warning: No spend loaded for "
            + "; ".join(f"{escape.md(council)} in {month_ranges(months)}" for council, months in lacking)
            + ": the figures hold only the other councils' spend for those months."
        )
    for c in cmp.partial:
        paid = f" (payments to {c.partial_last_date:%d %b %Y})" if c.partial_last_date else ""
        notes.append(
            f":material/warning: {c.partial_month:%b %Y} is partial for {escape.md(c.council)}{paid}: "
            "in the figures, not in the changes."
        )
    return notes


def demo_banner() -> None:
    info = queries.build_info()
    if not info.get("is_demo"):
        return
    imported = info.get("imported")  # None in a database built before imports were told apart
    if imported is not None and len(imported):
        st.warning(
            "**Demo data beside real files.** The extracts here are synthetic, generated by `python -m starviz "
            f"demo`, except the real files loaded for {escape.md(', '.join(imported))}: a figure that adds "
            "them to the synthetic ones describes no real total.",
            icon=":material/science:",
        )
        return
    st.info(
        "**Demo data.** Every council's extracts here are synthetic, generated by `python -m starviz "
        "demo`; they look like the real files but describe no real payment.",
        icon=":material/science:",
    )


def not_built(title: str, issue: str) -> None:
    st.title(title)
    st.info(f"This page is not built yet. It is planned in the issue “{issue}”.", icon=":material/construction:")


__all__ = ["demo_banner", "fy_bounds", "metric", "not_built", "notices", "render_filters", "scope"]


def require(action: str) -> queries.Scope:
    """Stop the page unless the user's role allows ``action`` (a second lock behind the navigation)."""
    current = scope()
    if not current.user.can(action):
        st.error("Your role does not allow this page.")
        st.stop()
    return current


def _download_pair(name: str, csv, xlsx) -> None:
    """CSV and Excel buttons side by side; ``csv`` and ``xlsx`` make the files when clicked, not on
    every rerun of the page."""
    left, right, _ = st.columns([1, 1, 6])
    for column, label, make, ext, mime in (
        (left, "CSV", csv, "csv", "text/csv"),
        (right, "Excel", xlsx, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ):
        column.download_button(
            label, make, f"{name}.{ext}", mime, key=f"{ext}-{name}", icon=":material/download:", on_click="ignore"
        )


def export_buttons(name: str, df, scope: queries.Scope | None = None, title: str | None = None, formats=None) -> None:
    """CSV and XLSX downloads of a table, named after it, with the filters in the XLSX notes
    (``formats``: number formats of columns whose names do not say their unit, see export.to_xlsx)."""
    from starviz import export

    notes = {"Filters": scope.filters.label if scope else "", "Rows": f"{len(df):,}"}
    dated = lambda: {**notes, "Source": export.source_note(queries.as_at_date())}  # noqa: E731 (on a click only)
    _download_pair(name, lambda: export.to_csv(df), lambda: export.to_xlsx(df, title or name, dated(), formats))


def stream_buttons(name: str, batches, notes: dict[str, str], title: str | None = None) -> None:
    """CSV and XLSX downloads of a table too long to hold at once: ``batches()`` gives it as a stream
    of frames, written batch by batch to a temporary file when a button is clicked (never on a
    rerun); Streamlit reads that file once into the copy it serves."""
    from starviz import export

    _download_pair(name, lambda: export.csv_file(batches()), lambda: export.xlsx_file(batches(), title or name, notes))


def database_unavailable(user: User, problem: Exception) -> None:
    """A clear page when the database is missing or corrupt; an admin can rebuild it from here."""
    from starviz import build

    st.title("The database cannot be opened")
    st.error(escape.md(str(problem)))
    if build.is_building():
        st.info("A build is in progress; this page will work again when it has finished.")
    elif user.can("rebuild"):
        st.write("Rebuild it from the extracts under `data/raw/`. The current file is replaced only if the build succeeds.")
        if st.button("Rebuild the database", type="primary", icon=":material/build:"):
            bar = st.progress(0.0, text="Starting")
            try:
                build.build(progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
            except build.BuildError as exc:
                st.error(f"The build failed; nothing was replaced.\n\n{escape.md(str(exc))}")
            else:
                auth.audit("rebuild", "from the page shown when the database cannot be opened")
                st.success("Rebuilt.")
                st.rerun()
    else:
        st.info("Ask an administrator to rebuild the database.")


def run_guarded(page) -> None:
    """Run a page; an error nobody foresaw becomes a notice (the details go to the server log only)."""
    import logging

    try:
        page.run()
    except Exception:
        logging.getLogger("starviz").exception("page %s failed", getattr(page, "title", "?"))
        st.warning(
            "Part of this page could not be drawn from the current data. The other pages still work; "
            "an administrator can check the Data quality page or rebuild the database."
        )
