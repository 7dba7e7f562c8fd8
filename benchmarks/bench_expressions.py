"""The expression-layer prototype (issue #15): one aggregate and two metrics in three forms, on SQLite and DuckDB.

Forms: hand-written portable SQL (the engine before the expression layer), SQLGlot (an expression tree built once,
written per dialect: sqlite, duckdb, spark), and Ibis 12 (optional; skipped when not installed). Queries: the
per-customer snapshot's recent-events aggregate, the email open rate and MRR on as_of. Each is timed best-of-3
on both engines (DuckDB reading the SQLite file through the sqlite_scanner of duckdb-ext-sqlite) and its result
compared with the portable SQL's. Writes benchmarks/results/expressions.json; the decision is in
docs/architecture.md.

    python benchmarks/bench_expressions.py [--db PATH]     # default: the demo database (built when missing)
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
from sqlglot import exp

from benchmarks.common import RESULTS, demo_database, machine_info
from lifecycle.sources.duckdb import sqlite_extension

try:
    import ibis
except ImportError:  # optional candidate
    ibis = None

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--db", default=None)
ARGS = parser.parse_args()

_context = demo_database(ARGS.db)
DB = str(_context.__enter__())
AS_OF = date(2025, 12, 31)


def cut(n=0):
    return (AS_OF - timedelta(days=n) + timedelta(days=1)).isoformat()


CORE = ("report_created", "dashboard_viewed", "integration_connected", "teammate_invited", "export_csv", "api_call")


# ---------- A: hand-written portable SQL (today) ----------
def portable_events():
    q = "COALESCE(e.quantity, 1)"
    sel, p = [], []
    for a, b in (("events_7d", 7), ("events_30d", 30), ("events_90d", 90)):
        sel.append(f"SUM(CASE WHEN 1 = 1 AND e.occurred_at >= ? THEN {q} ELSE 0 END) AS {a}")
        p.append(cut(b))
    sel.append(f"SUM(CASE WHEN e.occurred_at >= ? AND e.occurred_at < ? THEN {q} ELSE 0 END) AS events_prev_30d")
    p += [cut(60), cut(30)]
    sel.append("COUNT(DISTINCT CASE WHEN e.occurred_at >= ? THEN SUBSTR(e.occurred_at, 1, 10) END) AS active_days_30d")
    p.append(cut(30))
    sel.append(
        f"COUNT(DISTINCT CASE WHEN e.event_name IN ({','.join('?' * len(CORE))}) AND e.occurred_at >= ? THEN e.event_name END) AS distinct_features_30d"
    )
    p += [*CORE, cut(30)]
    sql = f"SELECT e.customer_id AS customer_id, {', '.join(sel)} FROM events e WHERE e.occurred_at >= ? AND e.occurred_at < ? GROUP BY e.customer_id ORDER BY 1"
    return sql, [*p, cut(90), cut()]


def portable_open_rate():
    return (
        "SELECT SUM(CASE WHEN (t.opened_at IS NOT NULL AND t.opened_at <> '' AND t.opened_at < ?) OR (t.clicked_at IS NOT NULL AND t.clicked_at <> '' AND t.clicked_at < ?) THEN 1 ELSE 0 END) AS opened, COUNT(*) AS sent "
        "FROM touches t WHERE LOWER(t.channel) = 'email' AND t.sent_at >= ? AND t.sent_at < ?",
        [cut(), cut(), (AS_OF.replace(year=AS_OF.year - 1) + timedelta(days=1)).isoformat(), cut()],
    )


def portable_mrr():
    return (
        "SELECT SUM(s.mrr) AS mrr, COUNT(DISTINCT s.customer_id) AS accounts FROM subscriptions s WHERE s.start_date < ? AND (s.end_date IS NULL OR s.end_date = '' OR s.end_date >= ?) AND s.mrr > 0",
        [cut(), cut()],
    )


# ---------- B: SQLGlot expression builder, transpiled per dialect ----------
def lit(v):
    return exp.Literal.string(v) if isinstance(v, str) else exp.Literal.number(v)


def E(c):
    return exp.column(c, table="e")


def g_events():
    q = exp.func("COALESCE", E("quantity"), lit(1))

    def win_sum(cond, alias):
        return exp.alias_(exp.func("SUM", exp.Case().when(cond, q).else_(lit(0))), alias)

    sel = [exp.alias_(E("customer_id"), "customer_id")]
    for a, b in (("events_7d", 7), ("events_30d", 30), ("events_90d", 90)):
        sel.append(win_sum(E("occurred_at") >= lit(cut(b)), a))
    sel.append(win_sum(exp.and_(E("occurred_at") >= lit(cut(60)), E("occurred_at") < lit(cut(30))), "events_prev_30d"))
    day = exp.Substring(this=E("occurred_at"), start=lit(1), length=lit(10))
    sel.append(
        exp.alias_(
            exp.Count(this=exp.Distinct(expressions=[exp.Case().when(E("occurred_at") >= lit(cut(30)), day)])),
            "active_days_30d",
        )
    )
    core = exp.In(this=E("event_name"), expressions=[lit(c) for c in CORE])
    sel.append(
        exp.alias_(
            exp.Count(
                this=exp.Distinct(
                    expressions=[exp.Case().when(exp.and_(core, E("occurred_at") >= lit(cut(30))), E("event_name"))]
                )
            ),
            "distinct_features_30d",
        )
    )
    return (
        exp.select(*sel)
        .from_(exp.table_("events", alias="e"))
        .where(exp.and_(E("occurred_at") >= lit(cut(90)), E("occurred_at") < lit(cut())))
        .group_by(E("customer_id"))
        .order_by(exp.column("customer_id"))
    )


def g_open_rate():
    def T(c):
        return exp.column(c, table="t")

    def seen(c):
        return exp.and_(T(c).is_(exp.null()).not_(), T(c).neq(lit("")), T(c) < lit(cut()))

    opened = exp.or_(seen("opened_at"), seen("clicked_at"))
    start = (AS_OF.replace(year=AS_OF.year - 1) + timedelta(days=1)).isoformat()
    return (
        exp.select(
            exp.alias_(exp.func("SUM", exp.Case().when(opened, lit(1)).else_(lit(0))), "opened"),
            exp.alias_(exp.Count(this=exp.Star()), "sent"),
        )
        .from_(exp.table_("touches", alias="t"))
        .where(
            exp.and_(
                exp.Lower(this=T("channel")).eq(lit("email")), T("sent_at") >= lit(start), T("sent_at") < lit(cut())
            )
        )
    )


def g_mrr():
    def S(c):
        return exp.column(c, table="s")
    ended = exp.or_(S("end_date").is_(exp.null()), S("end_date").eq(lit("")), S("end_date") >= lit(cut()))
    return (
        exp.select(
            exp.alias_(exp.func("SUM", S("mrr")), "mrr"),
            exp.alias_(exp.Count(this=exp.Distinct(expressions=[S("customer_id")])), "accounts"),
        )
        .from_(exp.table_("subscriptions", alias="s"))
        .where(exp.and_(S("start_date") < lit(cut()), ended, S("mrr") > lit(0)))
    )


# ---------- C: Ibis 12 ----------
def i_events(t):
    q = t.quantity.fill_null(1)
    def w(cond):
        return cond.ifelse(q, 0).sum()
    recent = t.filter((t.occurred_at >= cut(90)) & (t.occurred_at < cut()))
    r = recent
    return (
        r.group_by(customer_id=r.customer_id)
        .aggregate(
            events_7d=(r.occurred_at >= cut(7)).ifelse(r.quantity.fill_null(1), 0).sum(),
            events_30d=(r.occurred_at >= cut(30)).ifelse(r.quantity.fill_null(1), 0).sum(),
            events_90d=(r.occurred_at >= cut(90)).ifelse(r.quantity.fill_null(1), 0).sum(),
            events_prev_30d=((r.occurred_at >= cut(60)) & (r.occurred_at < cut(30)))
            .ifelse(r.quantity.fill_null(1), 0)
            .sum(),
            active_days_30d=(r.occurred_at >= cut(30)).ifelse(r.occurred_at.substr(0, 10), ibis.null()).nunique(),
            distinct_features_30d=(r.event_name.isin(CORE) & (r.occurred_at >= cut(30)))
            .ifelse(r.event_name, ibis.null())
            .nunique(),
        )
        .order_by("customer_id")
    )


def i_open_rate(t):
    start = (AS_OF.replace(year=AS_OF.year - 1) + timedelta(days=1)).isoformat()
    def seen(c):
        return c.notnull() & (c != "") & (c < cut())
    f = t.filter((t.channel.lower() == "email") & (t.sent_at >= start) & (t.sent_at < cut()))
    return f.aggregate(opened=(seen(f.opened_at) | seen(f.clicked_at)).ifelse(1, 0).sum(), sent=f.count())


def i_mrr(s):
    f = s.filter(
        (s.start_date < cut()) & (s.end_date.isnull() | (s.end_date == "") | (s.end_date >= cut())) & (s.mrr > 0)
    )
    return f.aggregate(mrr=f.mrr.sum(), accounts=f.customer_id.nunique())


def spark_sql(expr):
    try:
        return ibis.to_sql(expr, dialect="pyspark")[:160]
    except Exception as exc:
        return f"needs pyspark installed to compile: {type(exc).__name__}"


def timed(fn, n=3):
    best = None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return out, best


def norm(df):
    df = df.copy()
    df.columns = [c.lower() for c in df.columns]
    for c in df.columns:
        if c != "customer_id":
            df[c] = pd.to_numeric(df[c]).astype("float64")
    return df.reset_index(drop=True)


ext = sqlite_extension()


def duck():
    con = duckdb.connect()
    con.execute(f"INSTALL '{ext}'")
    con.execute("LOAD sqlite_scanner")
    con.execute(f"ATTACH '{DB}' AS db (TYPE sqlite, READ_ONLY)")
    con.execute("USE db")
    return con


sq = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
dk = duck()


def run_sqlite(sql, p=()):
    cur = sq.execute(sql, p)
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def run_duck(sql, p=()):
    cur = dk.execute(sql, list(p))
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


results = {}
for name, pf, gf, ifn, table in (
    ("snapshot_events", portable_events, g_events, i_events, "events"),
    ("email_open_rate", portable_open_rate, g_open_rate, i_open_rate, "touches"),
    ("mrr", portable_mrr, g_mrr, i_mrr, "subscriptions"),
):
    sql, p = pf()
    base, t_sq = timed(lambda: run_sqlite(sql, p))
    base = norm(base)
    _, t_dk = timed(lambda: run_duck(sql, p))
    row = {"portable_sql": {"sqlite_s": t_sq, "duckdb_s": t_dk}}
    # sqlglot
    t0 = time.perf_counter()
    tree = gf()
    texts = {d: tree.sql(dialect=d) for d in ("sqlite", "duckdb", "spark")}
    t_comp = (time.perf_counter() - t0) / 3
    g_sq, tg_sq = timed(lambda: run_sqlite(texts["sqlite"]))
    g_dk, tg_dk = timed(lambda: run_duck(texts["duckdb"]))
    row["sqlglot"] = {
        "build_and_transpile_s": t_comp,
        "sqlite_s": tg_sq,
        "duckdb_s": tg_dk,
        "equal_sqlite": norm(g_sq).equals(base),
        "equal_duckdb": norm(g_dk).sort_values(list(base.columns)[:1]).reset_index(drop=True).equals(base)
        if "customer_id" in base
        else norm(g_dk).equals(base),
        "spark_sql": texts["spark"][:160],
    }
    # ibis (optional: pip install "ibis-framework[sqlite,duckdb]==12.0.0" "sqlglot<28")
    if ibis is None:
        row["ibis"] = {"error": "ibis-framework not installed"}
        results[name] = row
        continue
    try:
        icon_sq = ibis.sqlite.connect(DB)
        expr = ifn(icon_sq.table(table))
        t0 = time.perf_counter()
        compiled = ibis.to_sql(expr, dialect="sqlite")
        t_icomp = time.perf_counter() - t0
        i_sq, ti_sq = timed(lambda: icon_sq.execute(ifn(icon_sq.table(table))))
        icon_dk = ibis.duckdb.connect()
        icon_dk.raw_sql(f"INSTALL '{ext}'")
        icon_dk.raw_sql("LOAD sqlite_scanner")
        icon_dk.raw_sql(f"ATTACH '{DB}' AS db (TYPE sqlite, READ_ONLY)")
        i_dk, ti_dk = timed(lambda: icon_dk.execute(ifn(icon_dk.table(table, database="db"))))
        row["ibis"] = {
            "compile_s": t_icomp,
            "sqlite_s": ti_sq,
            "duckdb_s": ti_dk,
            "equal_sqlite": norm(i_sq).equals(base),
            "equal_duckdb": norm(i_dk).equals(base),
            "spark_sql": spark_sql(expr),
        }
    except Exception as exc:
        row["ibis"] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    results[name] = row
out = {
    "benchmark": "expressions",
    **machine_info(),
    "database": Path(DB).name,
    "as_of": AS_OF.isoformat(),
    "best_of": 3,
    "queries": results,
}
(RESULTS / "expressions.json").write_text(json.dumps(out, indent=1, default=str) + "\n")
print(json.dumps(out, indent=1, default=str))
