"""Helpers for scripts/conformance.sh: the tiny fixture dataset, which scenarios to run, and the baseline check.

The baseline (tests/server/conformance-baseline.json) classifies scenarios of the pinned
``@modelcontextprotocol/conformance`` package:

- ``not_applicable``: needs the SDK's fixture tools/prompts/resources (``test_simple_text`` …); never run;
- ``expected_failures``: run, and must fail (a pass means the entry is stale and must be removed);
- every other server scenario the package lists: run, and must pass.

A scenario passes when its ``checks.json`` holds at least one check and none with status ``FAILURE``
(``WARNING`` and ``INFO`` do not fail it), which is how the package's own summary counts.

Usage::

    python scripts/conformance_compare.py make-db PATH
    python scripts/conformance_compare.py plan BASELINE LISTED_FILE          # scenarios to run, one a line
    python scripts/conformance_compare.py compare BASELINE RESULTS_DIR VERSION SCENARIO...
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

PASS, FAIL, MISSING = "pass", "fail", "missing"


@dataclass(frozen=True)
class Baseline:
    """The baseline file: the package version it was recorded for and the two scenario → reason maps."""

    version: str
    expected_failures: dict[str, str]
    not_applicable: dict[str, str]


def load_baseline(path: Path) -> Baseline:
    """Read the baseline JSON; a scenario may not be both an expected failure and not applicable."""
    data = json.loads(Path(path).read_text())
    baseline = Baseline(str(data["version"]), dict(data.get("expected_failures", {})), dict(data.get("not_applicable", {})))
    both = sorted(set(baseline.expected_failures) & set(baseline.not_applicable))
    if both:
        raise ValueError(f"in both expected_failures and not_applicable: {', '.join(both)}")
    return baseline


def listed_server_scenarios(list_output: str) -> list[str]:
    """Server scenario names from ``conformance list --server`` (lines ``  - name`` in the server section)."""
    names: list[str] = []
    in_server = False
    for line in list_output.splitlines():
        if line.strip().lower().startswith("server scenarios"):
            in_server = True
        elif line.strip().lower().startswith("client scenarios"):
            in_server = False
        elif in_server and (match := re.match(r"^\s*-\s+(\S+)\s*$", line)):
            names.append(match.group(1))
    return names


def plan(baseline: Baseline, listed: list[str]) -> list[str]:
    """The listed scenarios minus the not-applicable ones, in the package's order.

    Raises ``ValueError`` when the package lists nothing or the baseline names a scenario the package does not
    list (a stale entry, e.g. after a version bump).
    """
    if not listed:
        raise ValueError("the conformance package listed no server scenarios")
    unknown = sorted((set(baseline.expected_failures) | set(baseline.not_applicable)) - set(listed))
    if unknown:
        raise ValueError(f"baseline names scenarios this package does not have (remove them): {', '.join(unknown)}")
    return [name for name in listed if name not in baseline.not_applicable]


def scenario_outcome(result_dir: Path) -> tuple[str, list[str]]:
    """``pass``/``fail``/``missing`` for one scenario's output directory, and the failing checks' messages."""
    files = sorted(Path(result_dir).glob("**/checks.json")) if Path(result_dir).is_dir() else []
    checks = [check for file in files for check in json.loads(file.read_text())]
    if not checks:
        return MISSING, ["no checks.json written (the runner crashed or timed out)"]
    failures = [f"{c.get('id')}: {c.get('errorMessage') or 'FAILURE'}" for c in checks if c.get("status") == "FAILURE"]
    return (FAIL if failures else PASS), failures


def compare(baseline: Baseline, outcomes: dict[str, tuple[str, list[str]]], version: str) -> list[str]:
    """Problems that make the run fail (empty when the results match the baseline).

    A problem is: a run scenario without results; a failure not in ``expected_failures``; a pass of a scenario in
    ``expected_failures`` (stale entry); an expected failure that was not run; a baseline recorded for another
    package version.
    """
    problems: list[str] = []
    if baseline.version != version:
        problems.append(f"baseline was recorded for conformance {baseline.version}, the run used {version}: "
                        "re-check every scenario and update the baseline's version")
    for name, (status, messages) in outcomes.items():
        if status == MISSING:
            problems.append(f"{name}: {messages[0]}")
        elif status == FAIL and name not in baseline.expected_failures:
            problems.append(f"{name}: NEW FAILURE: {'; '.join(messages)}")
        elif status == PASS and name in baseline.expected_failures:
            problems.append(f"{name}: UNEXPECTED PASS: remove it from expected_failures in the baseline")
    for name in baseline.expected_failures:
        if name not in outcomes:
            problems.append(f"{name}: listed in expected_failures but not run")
    return problems


def make_tiny_db(path: Path) -> None:
    """A three-table dataset (3 customers, 1 subscription, 1 event) so the server has real data to describe."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from lifecycle.store import atomic_write

    with atomic_write(Path(path)) as db:
        db["customers"].insert_all([
            {"customer_id": "C1", "signup_date": "2024-01-05", "company": "Acme"},
            {"customer_id": "C2", "signup_date": "2024-02-10", "company": "Beta"},
            {"customer_id": "C3", "signup_date": "2024-03-15", "company": "Gamma"},
        ])
        db["subscriptions"].insert_all([
            {"subscription_id": "S1", "customer_id": "C1", "start_date": "2024-01-05", "mrr": 100.0},
        ])
        db["events"].insert_all([
            {"event_id": "E1", "customer_id": "C1", "occurred_at": "2024-01-06T10:00:00", "event_name": "login"},
        ])


def main(argv: list[str]) -> int:
    """Command-line entry point (see the module docstring); messages go to stderr, the plan to stdout."""
    command, *args = argv or ["help"]
    try:
        if command == "make-db" and len(args) == 1:
            make_tiny_db(Path(args[0]))
            return 0
        if command == "plan" and len(args) == 2:
            print("\n".join(plan(load_baseline(Path(args[0])), listed_server_scenarios(Path(args[1]).read_text()))))
            return 0
        if command == "compare" and len(args) >= 3:
            baseline = load_baseline(Path(args[0]))
            results, version, scenarios = Path(args[1]), args[2], args[3:]
            outcomes = {name: scenario_outcome(results / name) for name in scenarios}
            for name, (status, messages) in outcomes.items():
                expected = "expected failure" if name in baseline.expected_failures else "must pass"
                print(f"  {status:7s} {name} ({expected})", file=sys.stderr)
            for name in baseline.not_applicable:
                print(f"  skipped {name} (not applicable)", file=sys.stderr)
            problems = compare(baseline, outcomes, version)
            passed = sum(status == PASS for status, _ in outcomes.values())
            print(f"conformance {version}: {len(outcomes)} scenarios run, {passed} passed, {len(outcomes) - passed} "
                  f"failed ({len(baseline.expected_failures)} expected), {len(baseline.not_applicable)} not applicable",
                  file=sys.stderr)
            for problem in problems:
                print(f"PROBLEM {problem}", file=sys.stderr)
            return 1 if problems else 0
    except (ValueError, KeyError, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
