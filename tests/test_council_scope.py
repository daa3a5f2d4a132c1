"""Row-level security over every question: a user of one council receives nothing of another.

The questions are found by introspection (every public function the package ``starviz.queries``
offers the pages, whatever module it lives in), never from a typed list, so a new question is
checked the day it is written. Each is asked on a demo database where every council has data of
every dataset, with arguments chosen by parameter name, and aimed at other councils wherever a
parameter lets a caller aim (another council's contract, supplier, file, council id). The answer
may hold no id or name of another council, no name of a supplier only other councils deal with,
no title or reference of a contract that does not cover the user's council.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from starviz import build, config, cube, demo, queries
from starviz.scope import Filters, User, financial_year


@pytest.fixture(scope="module")
def every_council_has_data(tmp_path_factory):
    work = tmp_path_factory.mktemp("scope")
    demo.generate(work / "raw", seed=7, scale=0.01, first_month="2025-01", last_month="2025-12")
    return build.build(raw_dir=work / "raw", db_path=work / "star.duckdb").db_path


@pytest.fixture()
def served(every_council_has_data, monkeypatch):
    monkeypatch.setenv("STARVIZ_DB", str(every_council_has_data))
    config.settings.cache_clear()
    yield every_council_has_data
    queries.db.release(every_council_has_data)
    config.settings.cache_clear()


def questions():
    """Every public question the package offers (its re-exports), except the execution layer."""
    for name, fn in inspect.getmembers(queries, inspect.isfunction):
        module = fn.__module__
        if name.startswith("_") or not module.startswith(f"{queries.__name__}.") or module.endswith(".db"):
            continue
        yield name, fn


class World:
    """What the user may see and what belongs to other councils only, read straight from the file."""

    def __init__(self, path: Path):
        with duckdb.connect(str(path), read_only=True) as con:
            councils = con.execute(
                "select council_id, name, short_name from dim_councils where is_council order by sort_order"
            ).fetchall()
            self.mine = councils[0][0]
            self.others = [c for c in councils if c[0] != self.mine]
            assert self.others, "the fixture needs more than one council"

            def one(sql, *params):
                return [r[0] for r in con.execute(sql, list(params)).fetchall()]

            mine_suppliers = """
                select supplier_id from fct_spend where council_id = $1 and supplier_id is not null
                union select supplier_id from mart_contracts
                where list_contains(covered_council_ids, $1) and supplier_id is not null"""
            visible_names = set(
                one(f"select supplier_name from dim_suppliers where supplier_id in ({mine_suppliers})", self.mine)
                + one("select supplier_name from fct_spend where council_id = $1", self.mine)
            )
            self.other_suppliers = one(
                f"select supplier_id from fct_spend where supplier_id not in ({mine_suppliers}) "
                "group by supplier_id order by sum(amount_gbp) desc",
                self.mine,
            )
            # words every council shares (exclusion reasons such as "HMRC", categories) are not a supplier's name
            shared = set(one("select distinct exclusion_reason from fct_spend union select category from dim_categories"))
            other_names = set(
                one("select supplier_name from dim_suppliers where supplier_id in (select unnest($1))", self.other_suppliers)
            )
            self.forbidden_suppliers = other_names - visible_names - shared
            names = dict(con.execute("select supplier_id, supplier_name from dim_suppliers").fetchall())
            # suppliers whose name would give them away first: the probes aim at those
            self.other_suppliers.sort(key=lambda s: names.get(s) not in self.forbidden_suppliers)
            mine_contracts = "select * from mart_contracts where list_contains(covered_council_ids, $1)"
            others = "select * from mart_contracts where not list_contains(covered_council_ids, $1)"
            self.other_contracts = one(f"select contract_id from ({others}) order by value_gbp desc nulls last", self.mine)
            self.forbidden_contracts = (
                set(one(f"select contract_title from ({others})", self.mine))
                - set(one(f"select contract_title from ({mine_contracts})", self.mine))
            ) | (
                set(one(f"select contract_ref from ({others})", self.mine))
                - set(one(f"select contract_ref from ({mine_contracts})", self.mine))
            )
            self.forbidden_contracts.discard(None)
            self.my_supplier = one(
                f"select supplier_id from ({mine_suppliers}) where supplier_id is not null limit 1", self.mine
            )[0]
            self.my_contract = one(f"select contract_id from ({mine_contracts}) limit 1", self.mine)[0]
            self.other_hash = one(
                "select sha256 from mart_rows_by_file where council_id <> $1 and council_id <> 'star'", self.mine
            )[0]
            self.category = one("select category from mart_spend_cube group by category order by sum(spend_gbp) desc")[0]
            self.last_month = one("select max(month) from mart_spend_by_council_month")[0]
            self.severities = one("select distinct severity from mart_rejects_by_row")
        assert self.forbidden_suppliers and self.forbidden_contracts and self.other_suppliers and self.other_contracts
        self.allowed_texts = visible_names
        self.words = [re.compile(rf"\b{re.escape(text)}\b", re.IGNORECASE) for c in self.others for text in c[1:] if text]
        self.ids = {c[0] for c in self.others}
        self.council_names = {text for c in councils for text in c[1:]}

    def leaks(self, answer) -> list[str]:
        """Whatever in ``answer`` names another council, its suppliers or its contracts."""
        found = []
        for text in _texts(answer):
            if (
                text in self.forbidden_suppliers
                or text in self.forbidden_contracts
                or text.lower() in self.ids
                or any(text.lower().startswith(f"{i}_") for i in self.ids)
                or (text not in self.allowed_texts and any(w.search(text) for w in self.words))
            ):
                found.append(text)
        return found


def _texts(answer):
    """Every text in an answer: frame columns, cells (lists within), dict keys and values, a pivot's parts."""
    if isinstance(answer, pd.DataFrame):
        yield from (str(c) for c in answer.columns)
        yield from (str(i) for i in answer.index if isinstance(i, str))
        for value in answer.to_numpy().ravel():
            yield from _texts(value)
    elif isinstance(answer, dict):
        for key, value in answer.items():
            yield from _texts(key)
            yield from _texts(value)
    elif isinstance(answer, (list, tuple, set)) or (hasattr(answer, "tolist") and not isinstance(answer, str)):
        for value in answer.tolist() if hasattr(answer, "tolist") else answer:
            yield from _texts(value)
    elif isinstance(answer, str):
        yield answer
    elif hasattr(answer, "__dataclass_fields__"):  # cube.Pivot and the like
        for field in answer.__dataclass_fields__:
            yield from _texts(getattr(answer, field))


def _probes(world: World, scope) -> dict[str, list]:
    """Arguments by parameter name: each list is tried in turn, aimed at other councils where it can be."""
    other, other_supplier, other_contract = world.others[0][0], world.other_suppliers[0], world.other_contracts[0]
    fy = financial_year(world.last_month)
    return {
        "scope": [scope],
        "filters": [scope.filters],
        "today": [None, dt.date(2025, 9, 15)],
        "supplier_id": [other_supplier, world.my_supplier],
        "contract_id": [other_contract, world.my_contract],
        "council_id": [other, world.mine],
        "category": [world.category],
        "month": [world.last_month],
        "file_months": [[world.last_month]],
        "as_at": [world.last_month],
        "comparison": [queries.comparison_windows(scope)],
        "period": [[world.last_month]],
        "shift": [12],
        "councils": [queries.spend_months_loaded(scope)],
        "dataset": ["spend", "contracts", "social_value"],
        "severities": [world.severities],
        "sha256": [world.other_hash],
        "by": list(queries.SV_BREAKDOWNS),
        "group_by": list(queries.KPI_GROUPINGS),
        "fy": [fy],
        "financial_year_label": [fy],
        "text": ["", next(iter(world.forbidden_suppliers))[:8]],
        "view": [
            cube.View(rows, columns, measure)
            for rows, columns, measure in (
                ("supplier", "council", "spend_gbp"),
                ("council", "month", "count_suppliers"),
                ("category", "supplier", "count_lines"),
                ("department", "council", "avg_line_gbp"),
            )
        ],
        "criteria": [
            (),
            (cube.Criterion("council", other),),
            (cube.Criterion("supplier", other_supplier),),
            (cube.Criterion("council", excluded=(world.mine,)),),
        ],
        "picks": [(("council", other), ("supplier", other_supplier)), *((("supplier", s),) for s in world.other_suppliers[:3])],
    }


def _calls(fn, probes: dict[str, list]):
    """Argument sets for ``fn``: the defaults of optional parameters, then each probe of each
    parameter in turn (the others at their first probe); a required parameter without a probe fails
    the test, so a new question cannot go unchecked."""
    params = inspect.signature(fn).parameters
    required = [n for n, p in params.items() if p.default is p.empty]
    missing = [n for n in required if n not in probes and n != "group"]
    assert not missing, f"{fn.__name__}: add a probe for {missing}"
    choices = {n: probes[n] for n in params if n in probes}
    seen = set()
    for n, values in [(None, [None]), *choices.items()]:
        for value in values:
            kwargs = {k: v[0] for k, v in choices.items()}
            if n is not None:
                kwargs[n] = value
            key = repr(sorted(kwargs.items(), key=lambda kv: kv[0]))
            if key not in seen:
                seen.add(key)
                yield kwargs


def test_a_one_council_user_receives_nothing_of_another_council_from_any_question(served):
    world = World(served)
    user = User("one.council", "One council", "analyst", (world.mine,))
    scopes = [
        queries.Scope(Filters(councils=tuple([world.mine, *world.ids]), period="all", addressable_only=False), user),
        queries.Scope(Filters(councils=tuple(world.ids), period="all", addressable_only=True), user),  # others only
    ]
    asked, leaked = [], []
    for name, fn in questions():
        takes_scope = "scope" in inspect.signature(fn).parameters
        for scope in scopes if takes_scope else scopes[:1]:
            for kwargs in _calls(fn, _probes(world, scope)):
                if "group" in inspect.signature(fn).parameters:  # a KPI group of the grouping chosen
                    kwargs["group"] = queries.kpi_groups(kwargs["group_by"]).iloc[0, 0]
                answer = fn(**kwargs)
                if not takes_scope:  # reference for everyone: council names allowed, nothing of their data
                    found = [
                        t
                        for t in _texts(answer)
                        if (t in world.forbidden_suppliers or t in world.forbidden_contracts) and t not in world.council_names
                    ]
                else:
                    found = world.leaks(answer)
                if found:
                    leaked.append(f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items() if k != 'scope')}): {found[:3]}")
            asked.append(name)
    assert not leaked, "\n".join(leaked)
    # the enumeration really reached the questions of every page area
    modules = {getattr(queries, n).__module__.rsplit(".", 1)[-1] for n in asked}
    assert modules >= {"reference", "overview", "social_value", "kpis", "maturity", "quality", "collaboration"}
    assert modules >= {"pipeline", "detail", "spend", "suppliers", "benchmarking"}
    assert "pick_names" in asked and len(set(asked)) > 80


def test_the_probe_would_see_a_leak(served):
    """The check itself: without the scope, the same questions name other councils' suppliers."""
    world = World(served)
    everyone = User("director", "Director", "admin")
    scope = queries.Scope(Filters(councils=tuple([world.mine, *world.ids]), period="all", addressable_only=False), everyone)
    names = queries.pick_names(scope, (("supplier", world.other_suppliers[0]),))
    assert world.leaks(names)
    assert world.leaks(queries.supplier_profile(scope, world.other_suppliers[0]))


def test_pick_names_tells_a_one_council_user_nothing_of_a_supplier_only_another_council_pays(served):
    """The lookup behind /spend?sel_supplier=<id>: a supplier only other councils pay stays a bare id."""
    world = World(served)
    user = User("one.council", "One council", "analyst", (world.mine,))
    scope = queries.Scope(Filters(councils=(world.mine,), period="all"), user)
    other_supplier = world.other_suppliers[0]
    assert queries.pick_names(scope, (("supplier", other_supplier), ("council", world.others[0][0]))) == {}
    mine = queries.pick_names(scope, (("supplier", world.my_supplier), ("council", world.mine)))
    assert set(mine) == {("supplier", world.my_supplier), ("council", world.mine)}


def test_every_question_filters_council_rows_through_the_scope_macros():
    """No question writes the council predicate by hand: only in_scope/covers_scope compare a council
    column with the councils of a scope (sql/queries/scope/)."""
    hand_written = re.compile(
        r"council_ids?\s+(?:not\s+)?in\s*\(\s*select\s+unnest\(|list_contains\(\s*[?$]\w*::varchar\[\]\s*,\s*[\w.]*council_id"
        r"|list_intersect\(\s*[\w.]*covered_council_ids\s*,\s*[?$]",
        re.IGNORECASE,
    )
    sources = [*(config.ROOT / "starviz" / "queries").glob("*.py"), *(config.SQL_DIR / "queries").rglob("*.sql")]
    offenders = [
        f"{p.name}: {m.group(0)}" for p in sources if "scope" not in p.parts for m in hand_written.finditer(p.read_text())
    ]
    assert not offenders, offenders


def test_every_question_of_every_module_is_offered_by_the_package():
    """Pages call queries.<question>; a question a module defines but the package does not re-export
    would be missed by the pages and by the enumeration above."""
    import importlib
    import pkgutil

    missing = []
    for info in pkgutil.iter_modules(queries.__path__):
        if info.name in ("db", "common"):
            continue
        module = importlib.import_module(f"{queries.__name__}.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and fn.__module__ == module.__name__ and getattr(queries, name, None) is not fn:
                missing.append(f"{info.name}.{name}")
    assert not missing, f"add to starviz/queries/__init__.py: {missing}"
