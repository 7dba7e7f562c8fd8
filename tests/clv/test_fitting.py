"""The shared fitting machinery: distinct rows and their weights, judging a run, the BLAS thread limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from lifecycle.clv._fitting import _judge, aggregate_rows, distinct_rows, single_threaded_blas

ROOT = Path(__file__).resolve().parents[2]


def test_identical_rows_collapse_to_one_row_with_the_summed_weight() -> None:
    """Rows (2, 5.0), (0, 0.0), (2, 5.0), (2, 3.5), (0, 0.0) with weights 1, 2, 3, 4, 5:
    (0, 0.0) -> 2 + 5 = 7; (2, 3.5) -> 4; (2, 5.0) -> 1 + 3 = 4; distinct rows in lexicographic order."""
    (x, t), w = aggregate_rows(np.array([2, 0, 2, 2, 0]), np.array([5.0, 0.0, 5.0, 3.5, 0.0]),
                               weights=np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert x.tolist() == [0.0, 2.0, 2.0]
    assert t.tolist() == [0.0, 3.5, 5.0]
    assert w.tolist() == [7.0, 4.0, 4.0]


def test_without_weights_the_weights_are_row_counts() -> None:
    (x,), w = aggregate_rows(np.array([3.0, 1.0, 3.0, 3.0]))
    assert x.tolist() == [1.0, 3.0]
    assert w.tolist() == [1.0, 3.0]


def test_hashed_distinct_rows_equal_numpy_unique_by_rows() -> None:
    """distinct_rows hashes the columns to one integer key; numpy.unique(axis=0) sorts the rows: same result."""
    rng = np.random.default_rng(7)
    columns = [rng.integers(0, 6, 5000).astype(float), rng.integers(0, 40, 5000) / 7, rng.choice([30.0, 38.86, 39.0], 5000)]
    distinct, inverse = distinct_rows(*columns)
    expected, expected_inverse = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
    np.testing.assert_array_equal(np.column_stack(distinct), expected)
    np.testing.assert_array_equal(inverse, expected_inverse.ravel())


def test_blas_runs_single_threaded_inside_the_limit_and_as_before_after_it() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import scipy.optimize  # noqa: F401  (loaded by the first fit; its BLAS is limited too)

    before = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    for _ in range(2):  # the controller is built once and reused
        with single_threaded_blas():
            inside = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
            assert inside == [1] * len(before)
        assert [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"] == before


def test_the_blas_limit_covers_the_blas_scipy_brings_when_the_first_fit_loads_scipy() -> None:
    """SciPy ships its own OpenBLAS and loads on the first fit (``lifecycle.clv._deferred``), inside the limit: the
    limit must cover that library too, or L-BFGS-B wakes a thread pool on every iteration. Run in a fresh interpreter,
    where SciPy is not loaded yet when the limit is first entered."""
    pytest.importorskip("threadpoolctl")
    code = ("import json, sys, threadpoolctl\nfrom lifecycle.clv._fitting import single_threaded_blas\n"
            "assert 'scipy' not in sys.modules\nwith single_threaded_blas():\n    import scipy.optimize\n"
            "    print(json.dumps([lib['num_threads'] for lib in threadpoolctl.threadpool_info() if lib['user_api'] == 'blas']))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr[-2000:]
    threads = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(threads) >= 1 and threads == [1] * len(threads)


def _run(success: bool, jac: list[float], message: str = "ABNORMAL: ") -> SimpleNamespace:
    return SimpleNamespace(x=np.zeros(len(jac)), fun=4.3, success=success, message=message, jac=np.array(jac))


@pytest.mark.parametrize(
    ("run", "ok"),
    [
        pytest.param(_run(True, [1e-3, 0.0], "CONVERGENCE"), True, id="converged"),
        pytest.param(_run(False, [-9.3e-9, 1.0e-8]), True, id="line-search-stalled-at-the-optimum"),
        pytest.param(_run(False, [2e-6, 0.0]), False, id="line-search-gave-up-on-a-slope"),
    ],
)
def test_a_line_search_that_stalls_on_rounding_noise_at_a_flat_gradient_counts_as_converged(run: SimpleNamespace, ok: bool) -> None:
    """The 100,000-customer synthetic Gamma-Gamma stopped ABNORMAL with |gradient| ~1e-8 at the same optimum two
    other starts reached with CONVERGENCE (mean negative LL 4.30362035899629 in all three)."""
    assert _judge(run, ["p", "q"], np.ones(2))[0] is ok
