"""`lifecycle clv`: the fit report, the holdout check and per-customer predictions, through the installed script.

The shop demo's orders are simulated from known BG/NBD parameters (``data.shop.TRUE_BG_NBD``, FHL 2005's CDNOW
estimates): the fit the command reports must recover them (the generating values are the golden values; 3,000
customers put each estimate within ~25 % of them, tests/data/test_shop.py pins the 3-SE bound) and be the library's
own fit. The CDNOW reproduction of the published fit through the documented mapping is tests/importer's.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from data import shop
from tests.console import lifecycle as run
from tests.console import one_error_line


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shop") / "shop.db"
    shop.build_shop(path)
    return path


@pytest.fixture(scope="module")
def report(shop_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    done = run("clv", "--db", str(shop_db), "--model", "bg_nbd", "--json", cwd=tmp_path_factory.mktemp("clv"))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_json_gives_the_fitted_parameters_near_the_generating_ones(report: dict) -> None:
    fit = report["fit"]
    assert fit["model"] == "bg_nbd" and fit["converged"] and fit["n"] == shop.CUSTOMERS
    truth = {"r": shop.TRUE_BG_NBD.r, "alpha": shop.TRUE_BG_NBD.alpha, "a": shop.TRUE_BG_NBD.a, "b": shop.TRUE_BG_NBD.b}
    for name, value in truth.items():
        assert fit["params"][name] == pytest.approx(value, rel=0.25), name
    assert fit["log_likelihood"] < 0


def test_json_carries_the_holdout_check_by_calibration_frequency(report: dict) -> None:
    check = report["check"]
    assert check is not None, report["check_note"]
    groups = check["groups"]
    assert [g["label"] for g in groups][:2] == ["0", "1"] and groups[-1]["label"].endswith("+")
    assert sum(g["customers"] for g in groups) <= shop.CUSTOMERS
    assert report["currency"] and report["summary"]["customers"] == shop.CUSTOMERS


def test_predictions_are_every_customer_ranked_by_value(shop_db: Path, tmp_path: Path) -> None:
    done = run("clv", "--db", str(shop_db), "--model", "bg_nbd", "--format", "csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == shop.CUSTOMERS and len({r["customer_id"] for r in rows}) == shop.CUSTOMERS
    values = [float(r["clv"]) for r in rows]
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= float(r["p_alive"]) <= 1.0 for r in rows)
    assert "3,000 customers" in done.stderr


def test_the_printed_report_names_model_and_check(shop_db: Path, tmp_path: Path) -> None:
    done = run("clv", "--db", str(shop_db), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Holdout check" in done.stdout and "log-likelihood" in done.stdout and "Top 10 of 3,000" in done.stdout


def test_subscription_data_gets_the_sbg_model(demo_db: Path, tmp_path: Path) -> None:
    done = run("clv", "--db", str(demo_db), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["model"] == "sbg" and set(document["fit"]["params"]) == {"alpha", "beta"}


def test_an_order_model_without_orders_is_one_error_line(demo_db: Path, tmp_path: Path) -> None:
    done = run("clv", "--db", str(demo_db), "--model", "bg_nbd", "--json", cwd=tmp_path)
    assert done.returncode == 1
    assert "order" in one_error_line(done.stderr).lower()


@pytest.mark.parametrize("args", [("--model", "gompertz"), ("--json", "--format", "csv"), ("--discount", "2")])
def test_bad_options_are_usage_errors(shop_db: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    done = run("clv", "--db", str(shop_db), *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
