"""`agentstate report` as a user runs it, and the page as a browser shows it (headless Chromium)."""

from __future__ import annotations

import re
import shutil
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from agentstate_etl.cli import app
from agentstate_etl.warehouse.session import open_session
from tests.e2e.conftest import DAYS, Backfill
from tests.warehouse import warehouse_of

SYNTHETIC_ADHERENCE = Path(__file__).with_name("synthetic_adherence.sql")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SETUP_HINT = (
    "run the set-up: `apt-get install -y chromium` (Debian's Chromium at /usr/bin/chromium) "
    "and `.venv/bin/pip install -e '.[dev]'` (playwright)"
)


ADHERENCE_TABLES = ("mart_adherence_daily", "mart_adherence_exceptions")


def drop_adherence(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the adherence marts, views (as the warehouse has them) or synthetic tables."""
    for name, kind in con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = 'warehouse' AND table_name IN ?",
        [list(ADHERENCE_TABLES)],
    ).fetchall():
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")


def with_adherence(home: Path) -> None:
    """Small synthetic adherence marts with known figures in place of the real ones."""
    with closing(open_session(warehouse_of(home), read_only=False)) as con:
        drop_adherence(con)
        con.execute(SYNTHETIC_ADHERENCE.read_text())


def without_adherence(home: Path) -> None:
    with closing(open_session(warehouse_of(home), read_only=False)) as con:
        drop_adherence(con)


def report(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["report", *args])
    return result.exit_code, result.output


def chromium() -> str:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).is_file():
        pytest.fail(f"Chromium is not installed, so the HTML report cannot be tested: {SETUP_HINT}")
    return found


def test_report_renders_in_headless_chromium_without_network(
    warehouse_home: Path, tmp_path: Path
) -> None:
    try:
        from playwright.sync_api import Route, sync_playwright
    except ImportError:
        pytest.fail(f"the playwright package is missing: {SETUP_HINT}")
    executable = chromium()
    with_adherence(warehouse_home)
    code, output = report()
    assert code == 0, output
    page_path = Path(output.strip())
    assert (
        page_path
        == warehouse_home / "reports" / f"report-{DAYS[0]}-{DAYS[-1] + timedelta(days=1)}.html"
    )
    figures = page_path.read_text().count('class="plotly-graph-div"')
    assert figures >= 10  # team, 3 per-agent, 2 reasons, ACW, 2 reconciliation, adherence

    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh profile
            executable_path=executable,
            args=CHROMIUM_FLAGS,
            offline=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:

            def block(route: Route) -> None:
                outside.append(route.request.url)
                route.abort()

            browser.route(re.compile(r"^(?!file:)"), block)
            page = browser.new_page()
            page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: (
                    errors.append(f"console {message.type}: {message.text}")
                    if message.type in ("error", "warning")
                    else None
                ),
            )
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_function(
                "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                arg=figures,
                timeout=60_000,
            )
            drawn = page.evaluate(
                """() => [...document.querySelectorAll('.js-plotly-plot')].map(
                       plot => plot.querySelectorAll('g.trace, g.hm, image').length)"""
            )
            sections = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
            tiles = page.inner_text(".tiles")
            reason_legend = page.eval_on_selector_all(
                "#not-ready .legendtext", "els => [...new Set(els.map(e => e.textContent))]"
            )
            adherence_text = page.inner_text("#adherence")
            target_line = page.eval_on_selector_all(
                "#adherence .annotation-text", "els => els.map(e => e.textContent)"
            )
            first_exception = page.eval_on_selector_all(
                "#adherence table:last-of-type tbody tr:first-child td",
                "els => els.map(e => e.textContent)",
            )
            screenshot = tmp_path / "report.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    assert errors == []
    assert outside == []
    assert len(drawn) == figures and all(count > 0 for count in drawn), drawn
    assert sections == [
        "state-time",
        "not-ready",
        "acw",
        "reconciliation",
        "adherence",
        "intraday",
    ]
    assert "adherence" in tiles and "(target 90 %)" in tiles
    # reasons by group: one vocabulary for every vendor, not each vendor's own codes
    assert {"Break", "Lunch", "Meeting", "Training"} <= set(reason_legend), reason_legend
    assert not {"PAID_BREAK", "BRK", "LUNCH", "MTG"} & set(reason_legend), reason_legend
    # against the target, with true counts, and the exceptions listed with their times
    assert "target 90 %" in target_line
    expected = expected_report_figures(warehouse_home)
    assert f"of {expected['agents']} agents are below the 90 % target" in adherence_text
    assert f"50 of {expected['exceptions']:,} exceptions" in adherence_text
    assert first_exception[1] == expected["longest_agent"]  # by name where the data has one
    assert first_exception[3] == expected["longest_start"]
    assert "By site" in adherence_text and expected["site"] in adherence_text
    assert screenshot.stat().st_size > 50_000
    print(f"screenshot: {screenshot}")


def expected_report_figures(home: Path) -> dict[str, object]:
    """What the adherence section must say, from the warehouse itself."""
    with closing(open_session(warehouse_of(home), read_only=True)) as con:
        agents = con.execute(
            "SELECT count(DISTINCT (vendor, tenant_id, agent_id)) FROM mart_adherence_daily"
        ).fetchone()[0]  # type: ignore[index]
        exceptions = con.execute("SELECT count(*) FROM mart_adherence_exceptions").fetchone()[0]  # type: ignore[index]
        name, agent_id, start = con.execute(
            "SELECT d.agent_name, x.agent_id, "
            "strftime(x.start_ts AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') "
            "FROM mart_adherence_exceptions AS x LEFT JOIN dim_agents AS d "
            "USING (vendor, tenant_id, agent_id) "
            "ORDER BY x.duration_s DESC, x.vendor, x.tenant_id, x.agent_id, x.start_ts LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        (site,) = con.execute(
            "SELECT min(site_id) FROM dim_agents WHERE site_id IS NOT NULL"
        ).fetchone()  # type: ignore[misc]
    return {
        "agents": agents,
        "exceptions": exceptions,
        "longest_agent": name or agent_id,
        "longest_start": start,
        "site": site,
    }


def test_report_is_one_self_contained_file(warehouse_home: Path) -> None:
    code, output = report()
    assert code == 0, output
    page = Path(output.strip()).read_text()
    assert "Plotly.newPlot" in page
    assert 'id="intraday"' in page and "<th>out_since</th>" in page  # today so far, rta_now
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=", page, re.I)
    assert "@import" not in page


def test_adherence_section_only_when_the_table_exists(warehouse_home: Path) -> None:
    without_adherence(warehouse_home)
    code, output = report()
    assert code == 0, output
    assert 'id="adherence"' not in Path(output.strip()).read_text()
    with_adherence(warehouse_home)
    code, output = report()
    assert code == 0, output
    page = Path(output.strip()).read_text()
    assert 'id="adherence"' in page
    assert "Out-of-adherence time by scheduled activity" in page


def test_range_names_the_file_and_limits_the_days(warehouse_home: Path, backfill: Backfill) -> None:
    start, end = DAYS[1], DAYS[3]
    code, output = report("--start", start.isoformat(), "--end", end.isoformat())
    assert code == 0, output
    path = Path(output.strip())
    assert path.name == f"report-{start}-{end}.html"
    agent_days = backfill.query(
        f"SELECT count(*) AS n FROM mart_state_totals_daily "
        f"WHERE day >= DATE '{start}' AND day < DATE '{end}'"
    )["n"][0]
    page = path.read_text()
    assert f"{agent_days:,} agent-days" in page
    assert str(DAYS[0]) not in re.sub(r"<script.*?</script>", "", page, flags=re.S)


def test_clear_errors_without_a_warehouse_or_rows(warehouse_home: Path) -> None:
    code, output = report("--start", "2020-01-01", "--end", "2020-01-08")
    assert code == 1
    assert "no agent-days" in output and f"holds {DAYS[0]}" in output
    code, output = report("--start", DAYS[2].isoformat(), "--end", DAYS[1].isoformat())
    assert code == 1 and "exclusive" in output
    (warehouse_home / "warehouse.sqlite").unlink()
    code, output = report()
    assert code == 1 and "agentstate backfill" in output
    assert not (warehouse_home / "reports").exists()


def test_names_from_the_data_are_text_not_markup(
    warehouse_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent name holding a link is shown as typed: plotly would render `<a href>` inside a
    label as a live link, so data reaches the page escaped."""
    from agentstate_etl import report as report_module

    hostile = '<a href="https://evil.example/">boss</a>'
    original = report_module.frame
    labels_sql = report_module._sql("agent_labels")

    def frame(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> object:
        found = original(con, sql, params)  # type: ignore[arg-type]
        if sql == labels_sql:
            found["agent"] = hostile
        return found

    monkeypatch.setattr(report_module, "frame", frame)
    code, output = report()
    assert code == 0, output
    page = Path(output.strip()).read_text()
    assert "&lt;a href=" in page  # the name is there, as text
    # never as markup: neither raw nor as the JSON escapes plotly's figure data would carry
    assert '<a href="https://evil.example/">' not in page
    assert "\\u003ca href" not in page and "evil.example\\u002f\\u0022" not in page
