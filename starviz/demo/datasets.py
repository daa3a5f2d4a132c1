"""Each dataset of one entity as canonical columns (``Table``): spend, contracts, social value,
KPIs, maturity. Values are numbers, dates and codes here; ``render`` turns them into a council's text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from starviz import config
from starviz.config import DatasetConfig, DemoStyle
from starviz.demo.render import date_text
from starviz.demo.vocabulary import (
    CARE,
    MEASURES,
    OTHER_AUTHORITIES,
    PURPOSE_SUFFIXES,
    REDACTED_PURPOSES,
    REFERENCE_POPULATION,
    ROUTES_HIGH,
    ROUTES_LOW,
    ROUTES_MID,
    SEASON_N,
    SEASON_V,
    SHARE_ADDRESSABLE,
    SHARE_GMPF,
    SHARE_HMRC,
    SHARE_INTER,
    SHARE_LEVY,
    SHARE_REDACTED,
    SHARE_TEACHERS,
    TITLES,
    UNIT_STEP,
    heading_index,
    proclass,
    reference_rows,
)
from starviz.demo.world import (
    Entity,
    Name,
    Vocab,
    World,
    add_months,
    entity_rng,
    month_end,
    py_rng,
    reference_prefix,
    strftime,
    text_array,
)


@dataclass
class Table:
    """Canonical columns of one dataset, in row order, with the file each row goes to."""

    columns: dict[str, object]  # field -> np.ndarray (date/money/number/flag) or pa.Array (text)
    n: int
    file_of_row: np.ndarray  # index into ``files``
    files: list[str]  # file names (strftime already applied)
    amount_field: str | None = None


def _department_codes(rng: np.random.Generator, headings: np.ndarray, vocab: Vocab, upper: bool) -> np.ndarray:
    out = np.full(len(headings), -1, dtype=np.int64)
    for h, spec in enumerate(proclass()):
        idx = np.flatnonzero(headings == h)
        if not len(idx):
            continue
        names = list(spec.departments)
        p = np.array([spec.departments[k] for k in names])
        codes = vocab.codes([d.upper() if upper else d for d in names])
        out[idx] = codes[rng.choice(len(names), len(idx), p=p / p.sum())]
    return out


def _category_vocab() -> tuple[list[str], list[str], np.ndarray]:
    """Labels and Trafford-style codes of every (heading, level-2) pair; offsets by heading."""
    labels, codes, offsets = [], [], []
    for spec in proclass():
        offsets.append(len(labels))
        for j, l2 in enumerate(spec.level2):
            labels.append(f"{spec.name.upper()}: {l2}")
            codes.append(f"{spec.code}{11 + j:02d}10")
    return labels, codes, np.array(offsets)


def spend_table(world: World, ent: Entity, ds: DatasetConfig, style: DemoStyle) -> Table:
    cc, sup = ent.cc, ent.suppliers
    rng = entity_rng(world.seed, cc.id, 10)
    months = world.months
    active = months >= np.datetime64(cc.joined, "M")
    if cc.left is not None:
        active &= months <= np.datetime64(cc.left, "M")
    months = months[active]
    nm = len(months)
    moy = months.astype(int) % 12
    growth = 1.03 ** ((months - world.first).astype(int) / 12)
    n_month = rng.poisson(ent.lines_year / 12 * SEASON_N[moy] * growth) if nm else np.zeros(0, int)
    v_month = ent.v_year / 12 * SEASON_V[moy] * growth
    flat_month = ent.v_year / 12 * growth

    n_red = rng.binomial(n_month, SHARE_REDACTED)
    n_inter = rng.poisson(max(0.4, 5 * world.g), nm)
    n_add = np.maximum(1, n_month - n_red - n_inter)

    names = Vocab()
    upper = ent.upper
    labels, cat_codes, offsets = _category_vocab()
    unclassified = len(labels)

    # addressable lines -------------------------------------------------------------------
    eligible = np.flatnonzero(sup.share > 0)
    share = sup.share[eligible]
    p_lines = share**0.6 / (share**0.6).sum()
    base = share / p_lines
    na = int(n_add.sum())
    a_month = np.repeat(np.arange(nm), n_add)
    a_sup = eligible[rng.choice(len(eligible), na, p=p_lines)]
    a_amt = base[np.searchsorted(eligible, a_sup)] * rng.lognormal(-0.4, 0.9, na)
    target = v_month * SHARE_ADDRESSABLE
    a_amt *= (target / np.maximum(np.bincount(a_month, a_amt, nm), 1e-9))[a_month]
    credit = rng.random(na) < 0.04
    a_amt[credit] = -a_amt[credit] * rng.uniform(0.05, 0.8, int(credit.sum()))
    small = (a_amt > 0) & (a_amt < 500)
    if "lower_than_500" in style.quirks:
        small &= rng.random(na) < 0.6
    a_amt[small] = 500 + rng.gamma(2.0, 180.0, int(small.sum()))
    if "lower_than_500" in style.quirks:
        few = rng.random(na) < 0.03
        a_amt[few & (a_amt > 0)] = rng.uniform(5, 499.99, int((few & (a_amt > 0)).sum()))
    a_name = names.codes(sup.ledger)[a_sup]
    a_head = sup.heading[a_sup]
    alt = rng.random(na) < 0.15
    n_l2 = np.array([len(h.level2) for h in proclass()])
    a_l2 = np.where(alt, (rng.random(na) * n_l2[a_head]).astype(int), sup.l2[a_sup])
    a_cat = np.where(rng.random(na) < 0.05, unclassified, offsets[a_head] + a_l2)

    # redacted personal payments ----------------------------------------------------------
    nr = int(n_red.sum())
    r_month = np.repeat(np.arange(nm), n_red)
    r_amt = rng.lognormal(0, 1.0, nr)
    r_amt *= (v_month * SHARE_REDACTED / np.maximum(np.bincount(r_month, r_amt, nm), 1e-9))[r_month]
    r_neg = rng.random(nr) < 0.01
    r_amt[r_neg] *= -0.3
    low = (r_amt > 0) & (r_amt < 500)
    r_amt[low] = 500 + rng.gamma(2.0, 120.0, int(low.sum()))
    markers = list(ds.redaction_markers) or ["REDACTED PERSONAL DATA"]
    has_redaction_col = "redaction" in ds.fields
    if has_redaction_col:
        r_name = np.where(rng.random(nr) < 0.5, -1, names.code(markers[0]))
    else:
        other = names.codes(markers[1:] or markers[:1])
        r_name = np.where(rng.random(nr) < 0.95, names.code(markers[0]), other[rng.integers(0, len(other), nr)])
    care_heading = heading_index(CARE)
    care = offsets[care_heading] + rng.integers(0, len(proclass()[care_heading].level2), nr)
    r_cat = np.where(rng.random(nr) < 0.6, unclassified, care)

    # inter-authority payments, levies, tax and pensions ------------------------------------
    others = [c for c in world.councils.values() if c.kind == "council" and c.id != cc.id]
    authority_names = [n for c in others for n in ([c.name, *c.name_aliases])] + list(OTHER_AUTHORITIES)
    authority_names = list(dict.fromkeys(a for a in authority_names if a))
    ni = int(n_inter.sum())
    i_month = np.repeat(np.arange(nm), n_inter)
    i_amt = rng.lognormal(0, 1.0, ni)
    i_amt *= (v_month * SHARE_INTER / np.maximum(np.bincount(i_month, i_amt, nm), 1e-9))[i_month]
    i_amt = np.maximum(i_amt, 500 + rng.gamma(2.0, 200.0, ni))
    i_name = names.codes(authority_names)[rng.integers(0, len(authority_names), ni)]

    r = py_rng(rng)
    hmrc = r.choice(("HM Revenue & Customs", "HMRC", "H M Revenue and Customs"))
    teachers = r.choice(("Teachers Pensions", "Teachers' Pensions"))
    fixed = [
        ("Greater Manchester Combined Authority", SHARE_LEVY * 0.72, "Transport levy"),
        ("Greater Manchester Combined Authority", SHARE_LEVY * 0.28, "Waste disposal levy"),
        (hmrc, SHARE_HMRC, "PAYE and National Insurance"),
        ("Greater Manchester Pension Fund", SHARE_GMPF, "Employer pension contributions"),
        (teachers, SHARE_TEACHERS, "Teachers pension contributions"),
    ]
    f_month = np.repeat(np.arange(nm), len(fixed))
    f_idx = np.tile(np.arange(len(fixed)), nm)
    f_share = np.array([f[1] for f in fixed])[f_idx]
    f_amt = flat_month[f_month] * f_share * rng.normal(1.0, 0.02, len(f_idx))
    f_name = names.codes([f[0].upper() if upper else f[0] for f in fixed])[f_idx]

    # all lines together ---------------------------------------------------------------------
    kind = np.concatenate([np.zeros(na, int), np.ones(nr, int), np.full(ni, 2), np.full(len(f_idx), 3)])
    month = np.concatenate([a_month, r_month, i_month, f_month])
    amount = np.round(np.concatenate([a_amt, r_amt, i_amt, f_amt]) * 100).astype(np.int64)
    amount[amount == 0] = 100
    name = np.concatenate([a_name, r_name, i_name, f_name])
    sidx = np.concatenate([a_sup, np.full(nr + ni + len(f_idx), -1)])
    cat = np.concatenate([a_cat, r_cat, np.full(ni + len(f_idx), unclassified)])
    fixed_of_line = np.concatenate([np.full(na + nr + ni, -1), f_idx])
    n = len(kind)
    first_day = months.astype("datetime64[D]")
    dim = ((months + 1).astype("datetime64[D]") - first_day).astype(int)
    day = first_day[month] + (rng.random(n) * dim[month]).astype(int)
    fwd = np.busday_offset(day, 0, roll="forward")
    day = np.where(fwd.astype("datetime64[M]") == months[month], fwd, np.busday_offset(day, 0, roll="backward"))
    order = np.lexsort((rng.random(n), day))
    kind, month, amount, name, sidx, cat, day, fixed_of_line = (
        x[order] for x in (kind, month, amount, name, sidx, cat, day, fixed_of_line)
    )
    is_sup = sidx >= 0
    s = np.where(is_sup, sidx, 0)

    cols: dict[str, object] = {"payment_date": day, "amount_gbp": amount, "supplier_name": names.take(name)}
    heading_of_line = np.where(is_sup, sup.heading[s], -1)
    dept_vocab = Vocab()
    dept = _department_codes(rng, heading_of_line, dept_vocab, upper)
    red_depts = dept_vocab.codes([d.upper() if upper else d for d in ("Adult Social Care", "Children's Services", "Housing")])
    dept = np.where(kind == 1, red_depts[rng.choice(3, n, p=[0.6, 0.35, 0.05])], dept)
    corp = dept_vocab.code("CORPORATE SERVICES" if upper else "Corporate Services")
    fin = dept_vocab.code("FINANCE" if upper else "Finance")
    dept = np.where(kind == 2, corp, np.where(kind == 3, fin, dept))
    cols["department"] = dept_vocab.take(dept)
    exp_vocab = Vocab()
    exp_codes = exp_vocab.codes([h.expense_type for h in proclass()])
    third = exp_vocab.code("Third Party Payments")
    cols["expense_type"] = exp_vocab.take(np.where(is_sup, exp_codes[np.maximum(heading_of_line, 0)], third))
    # purpose: level-2 label with a suffix, or a narrative for the special lines
    purpose = Vocab()
    n_suffix = len(PURPOSE_SUFFIXES)
    pmat = np.array(
        [[purpose.code(label.split(": ", 1)[1] + suffix) for suffix in PURPOSE_SUFFIXES] for label in labels] + [[-1] * n_suffix]
    )
    red_p = purpose.codes(REDACTED_PURPOSES)
    fixed_p = purpose.codes([f[2] for f in fixed])
    inter_p = purpose.codes(("Shared service recharge", "Joint commissioning contribution", "Cross-boundary placement"))
    pcode = pmat[cat, rng.integers(0, n_suffix, n)]
    pcode = np.where(kind == 1, red_p[rng.integers(0, len(red_p), n)], pcode)
    pcode = np.where(kind == 2, inter_p[rng.integers(0, len(inter_p), n)], pcode)
    pcode = np.where(kind == 3, fixed_p[np.maximum(fixed_of_line, 0)], pcode)
    unc_sup = (kind == 0) & (cat == unclassified)
    own_l2 = offsets[sup.heading[s]] + sup.l2[s]
    pcode = np.where(unc_sup, pmat[own_l2, 0], pcode)
    cols["purpose"] = purpose.take(pcode)
    cat_label = Vocab()
    cat_label.codes(labels)
    nc = cat_label.code("Not Classified")
    cols["category_label"] = cat_label.take(np.where(cat == unclassified, nc, cat))
    cat_code = Vocab()
    cat_code.codes(cat_codes)
    na_code = cat_code.code("NA")
    cols["category_code"] = cat_code.take(np.where(cat == unclassified, na_code, cat))
    # identifiers
    ref_text = pa.array([str(x) for x in sup.ref], type=pa.string())
    cols["supplier_ref"] = pc.if_else(pa.array(is_sup), ref_text.take(pa.array(s)), pa.scalar(None, pa.string()))
    known = is_sup & sup.ids_known[s]
    cols["vat_number"] = _take_known(sup.vat, s, known)
    cols["company_number"] = _take_known(sup.company, s, known)
    start = int(rng.integers(1_700_000_000, 1_800_000_000))
    tn = start + np.cumsum(rng.choice([0, 1, 1, 1, 2, 3], n))
    cols["transaction_number"] = pc.cast(pa.array(tn), pa.string())
    cols["invoice_number"] = _invoice_numbers(rng, day, kind, markers[0])
    cols["irrecoverable_vat_gbp"] = np.zeros(n, np.int64)
    if has_redaction_col:
        values = list(ds.redaction_column_values) or ["Redacted"]
        rv = Vocab()
        codes = rv.codes(values)
        business = rv.code("Business Payment")
        cols["redaction"] = rv.take(np.where(kind == 1, codes[rng.integers(0, len(codes), n)], business))
    files = [strftime(m.astype("datetime64[D]").astype(dt.date), style.file_name) for m in months]
    file_index = {f: i for i, f in enumerate(dict.fromkeys(files))}
    file_of_month = np.array([file_index[f] for f in files], dtype=np.int64)
    return Table(cols, n, file_of_month[month] if n else np.zeros(0, np.int64), list(file_index), "amount_gbp")


def _take_known(values: list[str], idx: np.ndarray, known: np.ndarray) -> pa.Array:
    arr = pa.array([v or None for v in values] or [None], type=pa.string())
    return pc.if_else(pa.array(known), arr.take(pa.array(idx)), pa.scalar(None, pa.string()))


def _invoice_numbers(rng: np.random.Generator, day: np.ndarray, kind: np.ndarray, marker: str) -> pa.Array:
    n = len(day)
    digits = pc.cast(pa.array(rng.integers(10_000, 99_999_999, n)), pa.string())
    inv = pc.binary_join_element_wise("INV-", digits, "")
    ddmmyy = date_text(day, "%d%m%y")
    batch = pc.binary_join_element_wise("FFPAYMENT", ddmmyy, "")
    u = rng.random(n)
    out = pc.if_else(pa.array(u < 0.15), inv, digits)
    out = pc.if_else(pa.array((u >= 0.15) & (u < 0.25)), batch, out)
    out = pc.if_else(pa.array(u >= 0.95), pa.scalar(None, pa.string()), out)
    return pc.if_else(pa.array((kind == 1) & (u < 0.5)), pa.scalar(marker), out)


@dataclass
class Contracts:
    ref: list[str]
    value: list[int]  # pence
    start: list[np.datetime64]
    end: list[np.datetime64]
    max_end: list[np.datetime64]  # NaT: no extension option


def contracts_table(world: World, ent: Entity, file_name: str) -> tuple[Table, Contracts]:
    cc, sup = ent.cc, ent.suppliers
    rng = entity_rng(world.seed, cc.id, 20)
    r = py_rng(rng)
    first_day = world.first.astype("datetime64[D]")
    last_day = month_end(world.last)
    span = int((world.last - world.first).astype(int))
    rows: list[dict] = []

    def month_of(base: np.datetime64, lo: int, hi: int) -> np.datetime64:
        return add_months(base, int(rng.integers(lo, max(hi, lo + 1))))

    def add(
        i: int | None,
        start: np.datetime64,
        end: np.datetime64,
        annual: float,
        covered: str = "",
        name: Name | None = None,
        gid: int | None = None,
    ) -> None:
        start = max(start, add_months(first_day, -60)) + (int(rng.integers(0, 28)) if rng.random() < 0.5 else 0)
        end = min(max(end, add_months(start, 6)), add_months(last_day, 60)) - 1
        years = max((end - start).astype(int) / 365.25, 0.25)
        value = max(5_000.0 + rng.gamma(2.0, 1_500.0), annual * years * rng.uniform(0.85, 1.25))
        rows.append(
            dict(i=i, start=start, end=end, value=round(value), covered=covered, name=name, gid=gid, extension=rng.random() < 0.4)
        )

    collab = [c for c in world.collabs if c.owner == cc.id]
    if cc.kind == "shared_service":
        for c in collab:
            start = c.start
            end = month_of(last_day, 1, 36) if rng.random() < 0.75 else month_of(max(start, first_day), 12, 40)
            add(None, start, end, c.annual, ";".join(c.covered), c.name, c.gid)
    else:
        covered_by_star = {c.gid for c in world.collabs if cc.id in c.covered}
        eligible = np.flatnonzero((sup.share > 0) & ~sup.school)
        order = eligible[np.argsort(-sup.annual[eligible], kind="stable")]
        cum = np.cumsum(sup.annual[order]) / max(sup.annual[order].sum(), 1e-9)
        p = np.select([cum < 0.6, cum < 0.8, cum < 0.95], [0.97, 0.68, 0.18], 0.015)
        p = np.where(np.isin(sup.gid[order], sorted(covered_by_star)), p * 0.2, p)
        chosen = order[rng.random(len(order)) < p]
        for i in chosen:
            annual = float(sup.annual[i])
            pattern = rng.choice(4, p=[0.6, 0.24, 0.08, 0.08])
            if pattern == 0:  # covers the whole period; many expire within 18 months of the end
                start = month_of(first_day, -60, -1)
                end = month_of(last_day, 1, 18) if rng.random() < 0.5 else month_of(last_day, 18, 48)
                add(int(i), start, end, annual)
            elif pattern == 1:  # re-procured during the period, sometimes with a gap
                start = month_of(first_day, -60, -24)
                end = month_of(first_day, 3, max(4, min(27, span - 6)))
                add(int(i), start, end, annual)
                add(int(i), add_months(end, int(rng.integers(0, 4))) + 1, month_of(end, 36, 60), annual)
            elif pattern == 2:  # expired, still being paid
                start = month_of(first_day, -60, -24)
                add(int(i), start, month_of(first_day, 0, max(1, min(24, span - 3))), annual)
                rows[-1]["extension"] = False
            else:  # let during the period
                start = month_of(first_day, 6, max(7, span - 1))
                add(int(i), start, month_of(start, 24, 60), annual)
        for i in np.flatnonzero(sup.share == 0):  # contracts with no spend at all
            start = month_of(first_day, -24, span)
            add(int(i), start, month_of(max(start, first_day), 12, 60), float(rng.lognormal(10.5, 1.0) * world.scale**0.5))
    rows.sort(key=lambda x: (x["start"], x["value"]))
    nrow = len(rows)
    numbers = np.sort(rng.choice(90_000, nrow, replace=False) + 1_000) if nrow else []
    prefix = reference_prefix(cc)
    out: dict[str, list] = {
        k: []
        for k in (
            "contract_ref",
            "contract_title",
            "description",
            "department",
            "supplier_name",
            "supplier_ref",
            "company_number",
            "charity_number",
            "vat_number",
            "supplier_postcode",
            "procurement_route",
            "category_code",
            "category_label",
            "category_manager",
            "covered_councils",
        )
    }
    value, annual_v, starts, ends, max_ends, reviews, sme, vcse, savings, weighting = ([] for _ in range(10))
    for k, row in enumerate(rows):
        i = row["i"]
        if i is None:
            name = row["name"]
            gid = row["gid"]
            heading, l2 = name.heading, int(world.shared_l2[gid])
            supplier = name.full
            ident = dict(
                supplier_ref="",
                company_number=world.shared_company[gid],
                charity_number=world.shared_charity[gid],
                vat_number=world.shared_vat[gid],
                supplier_postcode=world.shared_postcode[gid],
            )
            size, is_vcse = int(world.shared_size[gid]), name.kind in ("charity", "cic")
        else:
            heading, l2 = int(sup.heading[i]), int(sup.l2[i])
            supplier = sup.register[i]
            ident = dict(
                supplier_ref=str(sup.ref[i]),
                company_number=sup.company[i],
                charity_number=sup.charity[i],
                vat_number=sup.vat[i],
                supplier_postcode=sup.postcode[i] if r.random() < 0.9 else "",
            )
            size, is_vcse = int(sup.size[i]), bool(sup.vcse[i])
        spec = proclass()[heading]
        l2_label = spec.level2[l2]
        depts = list(spec.departments)
        dept = depts[int(np.argmax([spec.departments[d] for d in depts]))] if r.random() < 0.7 else r.choice(depts)
        start, end = row["start"], row["end"]
        out["contract_ref"].append(f"{prefix}-C-{numbers[k]:05d}")
        out["contract_title"].append(r.choice(TITLES).format(l2_label))
        out["description"].append(
            f"{l2_label} for {dept}"
            if i is not None
            else f"{l2_label}: collaborative agreement for {cc.short_name} partner councils"
        )
        out["department"].append(dept if i is not None else "")
        out["supplier_name"].append(supplier)
        for key, v in ident.items():
            out[key].append(v)
        v = row["value"]
        route = ROUTES_LOW if v < 25_000 else ROUTES_MID if v < 214_000 else ROUTES_HIGH
        out["procurement_route"].append(
            r.choice(route)
            if i is not None or v < 25_000
            else r.choice(("Open tender", "Framework call-off", "Restricted tender"))
        )
        out["category_code"].append(f"{spec.code}{11 + l2:02d}10")
        out["category_label"].append(f"{spec.name.upper()}: {l2_label}")
        out["category_manager"].append(world.managers[heading] if r.random() < 0.92 or i is None else "")
        out["covered_councils"].append(row["covered"])
        years = max((end - start).astype(int) / 365.25, 0.25)
        value.append(v * 100)
        annual_v.append(round(v / years * 100))
        starts.append(start)
        ends.append(end)
        max_ends.append(add_months(end, r.choice((12, 24))) if row["extension"] else np.datetime64("NaT", "D"))
        reviews.append(max(start, add_months(end, -int(r.choice((3, 6, 6, 9))))))
        u = r.random()
        sme.append(-1 if size < 0 or u < 0.08 else int(size < 3))
        vcse.append(-1 if r.random() < 0.08 else int(is_vcse))
        savings.append(0 if r.random() < 0.2 else round(v * r.uniform(0.0, 0.15)) * 100)
        weighting.append(float(r.choice((10, 15, 20, 20, 25, 30)) if v >= 50_000 else r.choice((0, 5, 10))))
    columns: dict[str, object] = {k: text_array(v) for k, v in out.items()}
    columns.update(
        value_gbp=np.array(value, np.int64),
        annual_value_gbp=np.array(annual_v, np.int64),
        irrecoverable_vat_gbp=np.zeros(nrow, np.int64),
        start_date=np.array(starts, "datetime64[D]"),
        end_date=np.array(ends, "datetime64[D]"),
        max_end_date=np.array(max_ends, "datetime64[D]"),
        review_date=np.array(reviews, "datetime64[D]"),
        is_sme=np.array(sme, np.int8),
        is_vcse=np.array(vcse, np.int8),
        savings_gbp=np.array(savings, np.int64),
        sv_weighting=np.array(weighting, float),
    )
    table = Table(columns, nrow, np.zeros(nrow, np.int64), [_snapshot_name(world, file_name)], "value_gbp")
    contracts = Contracts(ref=out["contract_ref"], value=value, start=starts, end=ends, max_end=max_ends)
    return table, contracts


def _snapshot_name(world: World, file_name: str) -> str:
    return strftime(world.last.astype("datetime64[D]").astype(dt.date), file_name)


def _quarter_ends(start: np.datetime64, stop: np.datetime64) -> list[np.datetime64]:
    out = []
    m = start.astype("datetime64[M]")
    m = m + (2 - (m.astype(int) % 3))  # Mar, Jun, Sep, Dec
    while month_end(m) <= stop:
        out.append(month_end(m))
        m = m + 3
    return out


def social_value_table(world: World, ent: Entity, contracts: Contracts, style: DemoStyle) -> Table:
    rng = entity_rng(world.seed, ent.cc.id, 30)
    last_day = month_end(world.last)
    since = np.datetime64(f"{world.first.astype(object).year - 5}-01-01", "D")
    rows: list[tuple] = []  # ref, measure index, type, date, quantity, local
    for k, ref in enumerate(contracts.ref):
        value = contracts.value[k] / 100
        start = contracts.start[k]
        if value <= 50_000 or start < since or start > last_day or rng.random() > 0.85:
            continue
        m = int(rng.integers(2, 7))
        measures = rng.choice(len(MEASURES), m, replace=False)
        target = value * rng.uniform(0.15, 0.30)
        parts = rng.dirichlet(np.full(m, 1.5)) * target
        u = rng.random()
        performance = rng.uniform(0.7, 1.05) if u < 0.7 else rng.uniform(0.35, 0.7) if u < 0.9 else rng.uniform(0.02, 0.3)
        end = contracts.max_end[k] if not np.isnat(contracts.max_end[k]) else contracts.end[k]
        quarters = _quarter_ends(start, min(end, last_day))
        duration = max((contracts.end[k] - start).astype(int), 90)
        for j, part in zip(measures, parts, strict=True):
            _code, _theme, _measure, unit, proxy = MEASURES[j]
            step = UNIT_STEP[unit]
            qty = max(step, round(part / proxy / step) * step)
            rows.append((ref, j, "Committed", start, qty, -1))
            done, prev = 0.0, start
            for q in quarters:
                frac = (q - prev).astype(int) / duration
                prev = q
                d = qty * performance * frac * rng.lognormal(0, 0.35)
                d = min(round(d / step) * step, max(qty * 1.05 - done, 0))
                if d <= 0:
                    continue
                done += d
                rows.append((ref, j, "Delivered", q, d, int(rng.random() < 0.55)))
    rows.sort(key=lambda x: (x[0], MEASURES[x[1]][0], x[2], x[3]))
    n = len(rows)
    mi = [x[1] for x in rows]
    cols: dict[str, object] = {
        "contract_ref": text_array([x[0] for x in rows]),
        "measure_code": text_array([MEASURES[j][0] for j in mi]),
        "theme": text_array([MEASURES[j][1] for j in mi]),
        "measure": text_array([MEASURES[j][2] for j in mi]),
        "unit": text_array([MEASURES[j][3] for j in mi]),
        "record_type": text_array([x[2] for x in rows]),
        "period_date": np.array([x[3] for x in rows], "datetime64[D]"),
        "quantity": np.array([round(x[4], 1) for x in rows], float),
        "proxy_value_gbp": np.array([round(MEASURES[j][4] * 100) for j in mi], np.int64),
        "is_local": np.array([x[5] for x in rows], np.int8),
    }
    return Table(cols, n, np.zeros(n, np.int64), [_snapshot_name(world, style.file_name)])


def kpis_table(world: World, ent: Entity, style: DemoStyle) -> Table:
    cc = ent.cc
    rng = entity_rng(world.seed, cc.id, 40)
    months = world.months[world.months >= np.datetime64(cc.joined, "M")]
    if cc.left is not None:
        months = months[months <= np.datetime64(cc.left, "M")]
    nm = len(months)
    t = np.arange(nm)
    moy = months.astype(int) % 12
    pop = (cc.population or REFERENCE_POPULATION) / REFERENCE_POPULATION
    try:
        sv_target = config.settings().social_value_target_share * 100
    except (config.ConfigError, OSError, ValueError):  # the demo must not depend on a settings file
        sv_target = 20.0
    # code, name, perspective, unit, higher is better, target, actual
    if cc.kind == "council":
        sav_t = np.full(nm, round(95_000 * pop, -3))
        kpis = [
            (
                "SAV01",
                "Cashable savings achieved",
                "Savings",
                "gbp",
                1,
                sav_t,
                sav_t * rng.normal(1.15, 0.15, nm) * np.where(moy == 2, 1.6, 1.0),
            ),
            (
                "CON01",
                "Contracts awarded",
                "Compliance",
                "count",
                1,
                np.full(nm, 8.0),
                rng.poisson(10.5 * SEASON_N[moy], nm).astype(float),
            ),
            (
                "COM01",
                "Addressable spend on contract",
                "Compliance",
                "percent",
                1,
                np.full(nm, 70.0),
                np.clip(67 + 7 * t / max(nm, 1) + rng.normal(0, 2.0, nm), 0, 100),
            ),
            ("COM02", "Waivers approved", "Compliance", "count", 0, np.full(nm, 3.0), rng.poisson(2.0, nm).astype(float)),
            (
                "CUS01",
                "Customer satisfaction",
                "Customer",
                "percent",
                1,
                np.full(nm, 85.0),
                np.clip(rng.normal(89.0, 3.0, nm), 0, 100),
            ),
            (
                "SUP01",
                "Supplier satisfaction",
                "Supplier",
                "percent",
                1,
                np.full(nm, 80.0),
                np.clip(rng.normal(84.5, 3.5, nm), 0, 100),
            ),
        ]
    else:
        followers = 2_400 + np.cumsum(rng.normal(32, 12, nm))
        web_t = 4_000 * 1.04 ** (t / 12)
        kpis = [
            (
                "WEB01",
                "Website visits",
                "Communications",
                "count",
                1,
                np.round(web_t, -2),
                web_t * SEASON_N[moy] ** 0.5 * rng.normal(1.12, 0.1, nm),
            ),
            ("SOC01", "Twitter followers", "Communications", "count", 1, np.round(2_420 + 30 * (t + 1), -1), followers),
            ("SOC02", "Twitter impressions", "Communications", "count", 1, np.full(nm, 18_000.0), rng.normal(22_000, 3_500, nm)),
            ("TRN01", "Service managers trained", "People", "count", 1, np.full(nm, 10.0), rng.poisson(12.5, nm).astype(float)),
            ("TRN02", "Staff training hours", "People", "count", 1, np.full(nm, 60.0), np.round(rng.normal(72, 10, nm))),
            (
                "SVA01",
                "Social value committed (% of contract value)",
                "Social Value",
                "percent",
                1,
                np.full(nm, sv_target),
                np.clip(rng.normal(sv_target + 4, 5, nm), 0, 100),
            ),
            (
                "SAV01",
                "Collaborative savings achieved",
                "Savings",
                "gbp",
                1,
                np.full(nm, 60_000.0),
                60_000 * rng.normal(1.2, 0.18, nm),
            ),
        ]
    rows = []
    for code, name, perspective, unit, hib, target, actual in kpis:
        digits = 2 if unit == "gbp" else 1 if unit == "percent" else 0
        for k in range(nm):
            rows.append(
                (
                    months[k],
                    code,
                    name,
                    perspective,
                    unit,
                    hib,
                    round(float(target[k]), digits),
                    round(max(float(actual[k]), 0.0), digits),
                )
            )
    rows.sort(key=lambda x: (x[0], x[1]))
    n = len(rows)
    cols: dict[str, object] = {
        "kpi_code": text_array([x[1] for x in rows]),
        "kpi_name": text_array([x[2] for x in rows]),
        "perspective": text_array([x[3] for x in rows]),
        "unit": text_array([x[4] for x in rows]),
        "period_date": np.array([x[0] for x in rows], "datetime64[M]").astype("datetime64[D]"),
        "value": np.array([x[7] for x in rows], float),
        "target": np.array([x[6] for x in rows], float),
        "higher_is_better": np.array([x[5] for x in rows], np.int8),
    }
    return Table(cols, n, np.zeros(n, np.int64), [_snapshot_name(world, style.file_name)])


_MATURITY_NOTES = (
    "Annual self-assessment agreed by the procurement board",
    "Reviewed with the portfolio holder",
    "Evidence in the procurement strategy action plan",
    "Peer review with the STAR partners",
    "Moderated at the regional procurement group",
    "",
)


def maturity_table(world: World, ent: Entity, style: DemoStyle) -> Table:
    """A self-assessment against the National Procurement Strategy at each financial year end: every
    key area and enabler of the reference list, current and target level, most areas improving."""
    cc = ent.cc
    rng = entity_rng(world.seed, cc.id, 50)
    r = py_rng(rng)
    areas = [a["area"] for a in sorted(reference_rows("nps_maturity_areas.csv"), key=lambda a: int(a["sort_order"]))]
    levels = [lv["name"] for lv in sorted(reference_rows("nps_maturity_levels.csv"), key=lambda lv: int(lv["level"]))]
    top = len(levels) - 1
    first_day = max(world.first, np.datetime64(cc.joined, "M")).astype("datetime64[D]")
    last_day = month_end(world.last)
    years = range(first_day.astype(object).year, last_day.astype(object).year + 1)
    dates = [d for d in (np.datetime64(f"{y}-03-31", "D") for y in years) if first_day <= d <= last_day] or [last_day]
    na = len(areas)
    current = np.minimum(rng.binomial(top, 0.35, na), top)
    ambition = rng.uniform(0.6, 1.6)
    target = np.minimum(np.maximum(current + rng.poisson(ambition, na), 1), top)
    rows: list[tuple] = []  # date, area index, current, target, target date, note
    for k, day in enumerate(dates):
        if k:
            step = rng.random(na)
            current = np.clip(current + (step < 0.35) - (step > 0.97), 0, top)
            reached = (current >= target) & (target < top) & (rng.random(na) < 0.5)
            target = np.where(reached, target + 1, target)
        year = day.astype(object).year
        for a in range(na):
            due = np.datetime64(f"{year + r.choice((2, 2, 3))}-03-31", "D")
            rows.append((day, a, int(current[a]), int(target[a]), due, r.choice(_MATURITY_NOTES)))
    n = len(rows)
    cols: dict[str, object] = {
        "area": text_array([areas[x[1]] for x in rows]),
        "period_date": np.array([x[0] for x in rows], "datetime64[D]"),
        "current_level": text_array([levels[x[2]] for x in rows]),
        "target_level": text_array([levels[x[3]] for x in rows]),
        "target_date": np.array([x[4] for x in rows], "datetime64[D]"),
        "notes": text_array([x[5] for x in rows]),
    }
    return Table(cols, n, np.zeros(n, np.int64), [_snapshot_name(world, style.file_name)])
