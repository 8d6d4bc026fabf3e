"""The report page and the runs browser, opened in a real headless Chromium: what a person sees
must be what ML Metadata holds. Screenshots go to build/test-artifacts/ (MLOPS_TEST_ARTIFACTS)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest

from mlops import metadata
from mlops.report import list_runs, summarize
from tests.browser import Browser
from tests.conftest import MLOPS, run_cli

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(os.environ.get("MLOPS_TEST_ARTIFACTS",
                                Path(__file__).resolve().parent.parent / "build/test-artifacts"))
PIPELINE = "digits-pipeline"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    opened = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield opened
    opened.close()


def _latest_report(home: Path) -> Path:
    reports = sorted((home / "reports").glob("*.html"))
    assert reports, f"no report written under {home / 'reports'}"
    return reports[-1]


def _texts(browser: Browser, selector: str) -> list[str]:
    return browser.evaluate(
        f"[...document.querySelectorAll({selector!r})].map(e => e.textContent.trim())")


def _key(browser: Browser, key: str) -> str:
    return browser.evaluate(f"document.querySelector('[data-key=\"{key}\"]').textContent")


def _drawn_charts(browser: Browser) -> dict[str, int]:
    """Chart id -> number of drawn marks (bars, lines, histogram steps) in it."""
    return browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('svg.chart')].map(s => [s.id, "
        "s.querySelectorAll('rect.bar, polyline.series, line.reference').length]))")


def _no_network(browser: Browser) -> list[str]:
    return [u for u in browser.requests if not u.startswith(("file:", "data:", "about:"))]


def test_report_of_the_session_run_shows_what_ml_metadata_holds(digits_run, browser):
    page = _latest_report(digits_run.home)
    assert f"Report: {page}" in digits_run.result.stdout
    browser.open(page.as_uri())
    assert browser.errors == []
    assert _no_network(browser) == []  # self-contained: nothing fetched when it is opened

    store = metadata.sqlite_store(digits_run.metadata_path)
    summary = summarize(store, PIPELINE)
    assert browser.evaluate("document.getElementById('run-id').textContent") == summary.run_name
    assert browser.evaluate("document.getElementById('verdict').dataset.verdict") == "published"
    assert _key(browser, "pushed_version") == summary.pushed_version
    for evaluation in summary.evaluations:
        assert _key(browser, f"{evaluation.model_format}.{evaluation.primary}") == \
            f"{evaluation.value:.4f}"
    for variant, info in summary.tflite_variants.items():
        assert _key(browser, f"variant.{variant}.bytes") == f"{info['size_bytes']:,}"
        assert float(_key(browser, f"variant.{variant}.latency_ms")) > 0
    assert "← for phones" in _texts(browser, "#variants tr")[
        1 + list(summary.tflite_variants).index(summary.mobile_variant)]

    charts = _drawn_charts(browser)
    for chart in ("gate-sparse_categorical_accuracy", "variant-sizes", "variant-metrics",
                  "variant-latency", "timings", "histogram-image_floats", "histogram-image_class"):
        assert charts.get(chart, 0) > 0, (chart, charts)
    # Train and eval statistics, as StatisticsGen recorded them.
    trainer_run = {e.node_id: e for e in summary.executions}
    assert int(_key(browser, "stats.train.image_class.count").replace(",", "")) + \
        int(_key(browser, "stats.eval.image_class.count").replace(",", "")) == 599
    # The lineage graph has the run's chain: one node per execution, by its execution id.
    nodes = set(_texts(browser, "#lineage g.node title"))
    for component in ("Trainer", "Transform", "ImportExampleGen", "StatisticsGen", "SchemaGen"):
        assert f"e{trainer_run[component].execution_id}" in nodes, component
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert browser.screenshot(ARTIFACTS / "report.png").stat().st_size > 10_000


def test_a_refused_run_says_why(refused_run, browser):
    browser.open(_latest_report(refused_run.home).as_uri())
    assert browser.errors == []
    assert browser.evaluate("document.getElementById('verdict').dataset.verdict") == "refused"
    verdict = browser.evaluate("document.getElementById('verdict').textContent")
    summary = summarize(metadata.sqlite_store(refused_run.metadata_path), PIPELINE)
    for evaluation in summary.evaluations:
        assert evaluation.failures and evaluation.failures in verdict
    assert "outside lower_bound 0.999" in verdict
    # The bound is drawn on the gate's chart.
    assert "lower bound 0.9990" in browser.evaluate(
        "document.getElementById('gate-sparse_categorical_accuracy').textContent")
    browser.screenshot(ARTIFACTS / "report-refused.png")


@pytest.fixture
def runs_browser(refused_run):
    """`mlops ui` on the refused run's home (it holds the session's run too), on a free port."""
    process = subprocess.Popen([MLOPS, "ui", "--home", str(refused_run.home), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={k: v for k, v in os.environ.items()
                                    if not k.startswith("MLOPS_")})
    line = process.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
    if match is None:
        process.kill()
        pytest.fail(f"mlops ui did not start: {line}{process.stderr.read()}")
    yield match.group(1)
    process.terminate()
    process.wait(timeout=30)


def test_runs_browser_lists_runs_links_reports_and_lineage_and_compares(
        refused_run, runs_browser, browser):
    store_file = Path(refused_run.metadata_path)
    before = hashlib.sha256(store_file.read_bytes()).hexdigest()
    rows = list_runs(metadata.sqlite_store(refused_run.metadata_path), PIPELINE)

    browser.open(runs_browser)
    assert browser.errors == []
    listed = browser.evaluate("[...document.querySelectorAll('#runs tr.run')].map(r => "
                              "[r.dataset.run, r.cells[4].textContent])")
    assert sorted(listed) == sorted([r["run_id"], "yes" if r["blessed"] else "no"] for r in rows)
    browser.screenshot(ARTIFACTS / "runs.png")

    browser.open(browser.evaluate("document.querySelector('#runs a.report').href"))
    assert browser.errors == []
    assert browser.evaluate("document.getElementById('run-id').textContent") == rows[-1]["run_id"]

    browser.open(runs_browser + "lineage?version=1")
    assert browser.errors == [] and "Pusher" in browser.evaluate(
        "document.getElementById('lineage').textContent")

    first, second = rows[0]["run_id"], rows[-1]["run_id"]
    browser.open(f"{runs_browser}compare?a={first}&b={second}", settle=2.0)
    assert browser.errors == []
    blessed = browser.evaluate("[...document.querySelectorAll('#comparison tr')].find(r => "
                               "r.cells[0].textContent == 'blessed').textContent")
    assert "True" in blessed and "False" in blessed
    assert browser.evaluate("document.querySelectorAll('iframe').length") == 2
    browser.screenshot(ARTIFACTS / "compare.png")
    # Read-only: browsing changed nothing in the store.
    assert hashlib.sha256(store_file.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_the_runs_browser_refuses_to_bind_beyond_loopback(digits_run, host):
    result = run_cli("ui", "--home", str(digits_run.home), "--host", host, "--port", "0")
    assert result.returncode != 0
    assert f"refusing to serve on {host}: the runs browser binds to loopback only" in result.stderr
