"""End to end: a real `streamlit run app.py` on 127.0.0.1, driven by Debian's Chromium.

Proves what AppTest cannot: the cold-start deep link, the graph really drawn on a canvas inside
its iframe, the CSV a browser downloads, no console errors and no script from a hostile label.
The screenshots in docs/screenshots/ are saved by `test_screenshots_of_every_page`.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from e2e.conftest import REPO, SCREENSHOTS, App, BrowserProblems, running_app
from e2e.documents import XSS, small_document, write, write_sql

pytestmark = pytest.mark.e2e

GRAPH_FRAME = 'iframe[title="Lineage graph"]'
VIEWPORT = {"width": 1440, "height": 1000}
# Streamlit's frontend probes for its base path: on a deep link it first asks
# /<page>/_stcore/health and /<page>/_stcore/host-config, gets a 404, then uses /. Those two
# requests are Streamlit's own and harmless; every other console error fails the test.
STREAMLIT_PROBE = re.compile(r"/_stcore/(health|host-config)$")


@pytest.fixture(scope="module")
def lineage_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    write_sql(root / "sql")
    return write(small_document(root / "sql"), root / "docs" / "lineage.json")


@pytest.fixture(scope="module")
def app(lineage_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with running_app(lineage_file, tmp_path_factory.mktemp("logs")) as running:
        yield running


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, BrowserProblems]]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    opened = context.new_page()
    problems = BrowserProblems()
    problems.watch(opened)
    opened.on(
        "console",
        lambda m: problems.console_errors.pop()
        if m.type == "error" and STREAMLIT_PROBE.search(m.location.get("url", ""))
        else None,
    )
    yield opened, problems
    context.close()
    assert not problems.page_errors, problems.page_errors
    assert not problems.console_errors, problems.console_errors
    assert not problems.dialogs, f"a script from the document ran: {problems.dialogs}"


def wait_for_graph(page: Any, timeout: float = 30_000) -> Any:
    frame = page.frame_locator(GRAPH_FRAME)
    frame.locator("canvas").first.wait_for(timeout=timeout)
    frame.locator("body[data-graph-ready='1']").wait_for(state="attached", timeout=timeout)
    return frame


def test_cold_start_deep_link_to_the_graph_page(lineage_file: Path, browser: Any, tmp_path: Path) -> None:
    """The very first request after the server starts is a deep link: the right page, table and depth."""
    with running_app(lineage_file, tmp_path) as fresh:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        problems = BrowserProblems()
        problems.watch(page)
        page.goto(f"{fresh.url}/Lineage_graph?table=acme.marts.fct_orders&up=0&down=2")
        page.get_by_text("3 of 3 nodes shown").wait_for(timeout=30_000)
        assert page.locator("h1").first.inner_text().startswith("Lineage graph")
        # (auto-retrying: under load the first render can still be settling its widgets)
        expect(page.get_by_role("textbox", name="Table", exact=True)).to_have_value("acme.marts.fct_orders")
        expect(page.get_by_role("spinbutton", name="Downstream", exact=True)).to_have_value("2")
        expect(page.get_by_role("spinbutton", name="Upstream", exact=True)).to_have_value("0")
        wait_for_graph(page)
        assert "table=acme.marts.fct_orders" in page.url and "down=2" in page.url
        context.close()
        errors = [e for e in problems.page_errors]
        assert not errors


def test_search_open_result_then_graph_canvas(app: App, page: tuple[Any, BrowserProblems]) -> None:
    browser_page, _ = page
    browser_page.goto(app.url)
    box = browser_page.get_by_label("Search tables")
    box.wait_for(timeout=30_000)
    box.fill("fct_ord")
    browser_page.get_by_test_id("stBaseButton-primaryFormSubmit").click()
    browser_page.get_by_text("best matches").wait_for(timeout=30_000)
    assert "/Search" in browser_page.url and "q=fct_ord" in browser_page.url
    chooser = browser_page.get_by_label("Open a result")
    chooser.click()
    browser_page.get_by_role("option", name="acme.marts.fct_orders").click()
    browser_page.get_by_role("button", name="Open table view").click()
    browser_page.get_by_role("heading", name="acme.marts.fct_orders").wait_for(timeout=30_000)
    assert "/Table" in browser_page.url and "table=acme.marts.fct_orders" in browser_page.url
    browser_page.get_by_role("link", name="Open the lineage graph of this table").click()
    frame = wait_for_graph(browser_page)
    assert frame.locator("canvas").first.bounding_box()["width"] > 200
    status = frame.locator("#status").inner_text()
    assert status.startswith("5 nodes")  # 1 hop up and down: 2 sources, 2 consumers and itself


def test_impact_csv_download(app: App, page: tuple[Any, BrowserProblems]) -> None:
    browser_page, _ = page
    browser_page.goto(f"{app.url}/Table?table=acme.raw.orders")
    button = browser_page.get_by_role("button", name=re.compile("Download the impact list"))
    button.wait_for(timeout=30_000)
    with browser_page.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename == "impact-acme.raw.orders.csv"
    content = Path(download.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [r["table"] for r in rows] == [
        "acme.staging.stg_orders", "acme.marts.fct_orders", "acme.marts.xss_table", "bi.revenue_dashboard",
    ]  # fmt: skip
    assert rows[-1]["distance"] == "3"
    assert rows[-1]["path"] == "acme.raw.orders → acme.staging.stg_orders → acme.marts.fct_orders → bi.revenue_dashboard"


def test_hostile_label_never_runs_and_shows_as_text(app: App, page: tuple[Any, BrowserProblems]) -> None:
    browser_page, problems = page
    browser_page.goto(f"{app.url}/Lineage_graph?table=acme.marts.xss_table")
    frame = wait_for_graph(browser_page)
    # hover the hostile node so vis-network shows its tooltip
    iframe_box = browser_page.locator(GRAPH_FRAME).bounding_box()
    point = browser_page.frame(url=re.compile("about:srcdoc")).evaluate(
        "() => { const n = window.lineageNetwork; const id = 'acme.marts.xss_table';"
        " return n.canvasToDOM(n.getPositions([id])[id]); }"
    )
    browser_page.mouse.move(iframe_box["x"] + point["x"] + 1, iframe_box["y"] + point["y"] + 1 + 30)
    browser_page.mouse.move(iframe_box["x"] + point["x"], iframe_box["y"] + point["y"] + 30)
    tooltip = frame.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)
    assert XSS in tooltip.inner_text()  # the label, as text
    assert tooltip.locator("img").count() == 0
    assert frame.locator("img").count() == 0
    # and on the table page: description, owners and SQL comments stay text
    browser_page.goto(f"{app.url}/Table?table=acme.marts.xss_table")
    browser_page.get_by_text(XSS).first.wait_for(timeout=30_000)
    assert browser_page.locator("img[src='x']").count() == 0
    time.sleep(0.5)
    assert not problems.dialogs


def test_thousand_nodes_settle_in_seconds(browser: Any) -> None:
    from lineage_core.graph import LineageGraph
    from lineage_core.models import Node
    from lineage_core.render.pyvis_html import render_neighborhood

    ids = [f"p.d{i % 12}.t{i}" for i in range(1000)]
    nodes = {i: Node(i) for i in ids}
    edges = [(ids[i // 3], ids[i]) for i in range(1, 1000)]
    graph = LineageGraph(ids, edges, nodes=nodes)
    hood = graph.neighborhood(ids[0], up=0, down=10, cap=1000)
    assert len(hood.nodes) == 1000
    html = render_neighborhood(hood, nodes, color_by="dataset")
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    started = time.monotonic()
    page.set_content(html)
    page.wait_for_selector("body[data-graph-ready='1']", state="attached", timeout=20_000)
    settled = time.monotonic() - started
    context.close()
    assert settled < 10, f"1,000 nodes took {settled:.1f} s to settle"


def _demo_documents(tmp_path: Path) -> Path:
    """`lineage demo --no-serve`: the bundled example's lineage and health documents."""
    out = tmp_path / "demo"
    command = [sys.executable, "-m", "lineage_core.cli.main", "demo", "--no-serve", "--out-dir", str(out)]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "lineage.json").exists() and (out / "health.json").exists()
    return out


def test_screenshots_of_every_page(browser: Any, tmp_path: Path) -> None:
    """Saves docs/screenshots/*.png from the pages of the demo (what `make demo` serves).

    The documents go where `make demo` puts them, and the app is given the same relative URIs,
    so the pictures show what a user sees (and no path of the machine that took them).
    """
    demo = _demo_documents(REPO / "build")
    document = demo / "lineage.json"
    from lineage_core.artifact import loads_document
    from lineage_core.graph import LineageGraph

    loaded = loads_document(document.read_bytes())
    graph = LineageGraph.from_document(loaded)
    # the table with most consumers makes the most telling table and graph views
    focus = max(graph.ids, key=lambda t: (min(len(graph.upstream(t, None)), len(graph.downstream(t, None))), t))
    query = focus.split(".")[-1][:6]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots = {
        "home": ("", "Lineage Dashboard"),
        "search": (f"/Search?q={query}", "best matches"),
        "table": (f"/Table?table={focus}&depth=3", "downstream in total"),
        "graph": (f"/Lineage_graph?table={focus}&up=2&down=2", "nodes shown"),
        "errors": ("/Errors_and_coverage", "Coverage per source"),
        "health": ("/Data_health?problems=1", "Root causes"),
    }
    relative = demo.relative_to(REPO).as_posix()
    with running_app(
        Path(relative) / "lineage.json", tmp_path, HEALTH_URI=f"{relative}/health.json"
    ) as running:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        for name, (path, marker) in shots.items():
            page.goto(running.url + path)
            page.get_by_text(marker).first.wait_for(timeout=30_000)
            if name == "graph":
                wait_for_graph(page)
            page.wait_for_timeout(800)  # let dataframes paint
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        context.close()
    for name in shots:
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
