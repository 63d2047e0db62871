"""`agentstate report`: one HTML file of charts over the warehouse, viewable offline.

Charts are Plotly figures; the plotly.js bundle that ships inside the plotly wheel is inlined
once in the page's head, so the file opens anywhere without a network. The data comes from
the `.sql` files of `report_page/`, run on one read-only connection (a consistent snapshot that
never blocks a build), and is shaped here only at agent-day grain or coarser.
"""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

import duckdb
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from agentstate_etl.errors import ConfigError, WarehouseError
from agentstate_etl.marts.query import frame, read_only, table_names
from agentstate_etl.warehouse.location import WarehouseLocation

PAGE_DIR = Path(__file__).with_name("report_page")

# Stacking order (work at the bottom) and one colour per state across every chart.
STATE_COLUMNS = {
    "BUSY": "busy_s",
    "ACW": "acw_s",
    "READY": "ready_s",
    "NOT_READY": "not_ready_s",
    "UNKNOWN": "unknown_s",
}
STATE_COLORS = {
    "BUSY": "#1f77b4",
    "ACW": "#9467bd",
    "READY": "#2ca02c",
    "NOT_READY": "#ff7f0e",
    "UNKNOWN": "#7f7f7f",
    "LOGGED_OUT": "#bcbd22",
}
STATUS_COLORS = {
    "ok": "#2ca02c",
    "drift": "#d62728",
    "missing_summary": "#ff7f0e",
    "missing_events": "#9467bd",
}
MAX_AGENTS_PER_CHART = 40  # past this a per-agent chart stops being readable
WORST_RECONCILIATION_ROWS = 15
MAX_EXCEPTION_ROWS = 50
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
REQUIRED_TABLES = (
    "mart_state_totals_daily",
    "mart_not_ready_reasons_daily",
    "mart_acw_daily",
    "mart_reconciliation",
    "agent_state_intervals",
)


@dataclass(frozen=True)
class Report:
    path: Path
    start: date
    end: date  # exclusive
    agent_days: int
    sections: tuple[str, ...]


@dataclass
class Section:
    """One titled part of the page: a sentence on what the numbers are, then charts or notes."""

    anchor: str
    title: str
    lede: str
    parts: list[str] = field(default_factory=list)

    def chart(self, figure: go.Figure, title: str | None = None) -> None:
        if title:
            self.parts.append(f"<h3>{html.escape(title)}</h3>")
        self.parts.append(
            '<figure class="chart">'
            + figure.to_html(full_html=False, include_plotlyjs=False, config=PLOT_CONFIG)
            + "</figure>"
        )

    def note(self, text: str, css: str = "note") -> None:
        self.parts.append(f'<p class="{css}">{html.escape(text)}</p>')

    def render(self) -> str:
        return (
            f'<section id="{self.anchor}"><h2>{html.escape(self.title)}</h2>'
            f'<p class="lede">{html.escape(self.lede)}</p>{"".join(self.parts)}</section>'
        )


def _sql(name: str) -> str:
    return (PAGE_DIR / f"{name}.sql").read_text()


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h"


def _source(df: pd.DataFrame) -> pd.Series:
    """Where rows come from, for legends and panel titles: vendor and tenant."""
    return df["vendor"] + " · " + df["tenant_id"]


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Data as text, never markup: plotly renders `<a href>`, `<b>` and friends inside labels,
    so a vendor's agent name or reason could become a live link; escaped, it reads as typed."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: html.escape(v) if isinstance(v, str) else v)
    return out


def _days(df: pd.DataFrame) -> pd.DataFrame:
    """Days as ISO text: a category axis with one tick per day, not a clock axis."""
    out = df.copy()
    if "day" in out:
        out["day"] = pd.to_datetime(out["day"]).dt.strftime("%Y-%m-%d")
    out["source"] = _source(out)
    return out


def _style(
    figure: go.Figure, height: int, y_title: str | None = None, legend_on_top: bool = False
) -> go.Figure:
    """One look for every chart; the legend goes on top only where no panel titles are there."""
    legend: dict[str, Any] = {"traceorder": "normal"}
    if legend_on_top:
        legend.update(orientation="h", yanchor="bottom", y=1.02, x=0)
    figure.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend=legend,
        font={"family": "system-ui, sans-serif", "size": 12},
    )
    figure.update_xaxes(type="category")
    if y_title:
        figure.update_yaxes(title_text=y_title)
    return figure


def _source_panels(rows: pd.DataFrame, x: str, y: str, color: str, **options: Any) -> go.Figure:
    """Stacked bars, one panel per vendor tenant (three a row), tall enough for the legend."""
    figure = px.bar(rows, x=x, y=y, color=color, facet_col="source", facet_col_wrap=3, **options)
    # plotly.express titles panels `source=cxone · x`; the value alone reads better
    figure.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    panel_rows = -(-rows["source"].nunique() // 3)
    height = max(320 * panel_rows, 22 * rows[color].nunique()) + 60
    return _style(figure, height, y)


def _resolve_range(
    con: duckdb.DuckDBPyConnection, start: date | None, end: date | None
) -> tuple[date, date]:
    span = frame(con, _sql("span")).iloc[0]
    if span["agent_days"] == 0:
        raise WarehouseError(
            "the warehouse has no agent-days yet: run `agentstate backfill` for some days first"
        )
    # a missing side extends to the data, or one day past the given side if the data stops short
    one_day = timedelta(days=1)
    if start is None:
        start = min(span["first_day"], end - one_day) if end else span["first_day"]
    if end is None:
        end = max(span["last_day"] + one_day, start + one_day)
    if end <= start:
        raise ConfigError(f"--end ({end}) must be after --start ({start}); --end is exclusive")
    return start, end


def _state_sections(state: pd.DataFrame, labels: pd.DataFrame) -> Section:
    section = Section(
        "state-time",
        "Where the time went",
        "Logged-in hours per canonical state and report day (mart_state_totals_daily). Work "
        "(busy, after-call work) is stacked at the bottom; logged-out time is in no total.",
    )
    long = state.melt(
        id_vars=["vendor", "tenant_id", "agent_id", "day", "source"],
        value_vars=list(STATE_COLUMNS.values()),
        var_name="column",
        value_name="seconds",
    )
    long["state"] = long["column"].map({c: s for s, c in STATE_COLUMNS.items()})
    long["hours"] = long["seconds"] / 3600
    team = long.groupby(["source", "day", "state"], as_index=False)["hours"].sum()
    figure = _source_panels(
        team,
        "day",
        "hours",
        "state",
        category_orders={"state": list(STATE_COLUMNS)},
        color_discrete_map=STATE_COLORS,
    )
    section.chart(figure, "All agents, per day")

    named = _named(long, labels)
    for source, rows in named.groupby("source", sort=True):
        totals = rows.groupby("agent")["seconds"].sum().sort_values(ascending=False)
        shown = totals.index[:MAX_AGENTS_PER_CHART]
        rows = rows[rows["agent"].isin(shown)].sort_values(["day", "agent"])
        figure = go.Figure()
        for state_name in STATE_COLUMNS:
            part = rows[rows["state"] == state_name]
            figure.add_bar(
                x=[part["day"], part["agent"]],
                y=part["hours"],
                name=state_name,
                marker_color=STATE_COLORS[state_name],
                hovertemplate="%{x}<br>%{y:.2f} h<extra>" + state_name + "</extra>",
            )
        figure.update_layout(barmode="stack")
        _style(figure, 460, "hours", legend_on_top=True)
        figure.update_xaxes(type="multicategory", tickangle=-60)
        section.chart(figure, f"Per agent and day — {source}")
        if len(totals) > len(shown):
            section.note(
                f"The {len(shown)} of {len(totals)} agents with the most logged-in time; "
                "`agentstate export --table mart_state_totals_daily` has every agent."
            )
    return section


def _reasons_section(reasons: pd.DataFrame) -> Section:
    section = Section(
        "not-ready",
        "Not-ready time by reason",
        "Not-ready hours of all agents per report day by reason group "
        "(mart_not_ready_reasons_daily.reason_group: one vocabulary for every vendor, so "
        "CXone's PAID_BREAK and Kore.ai's BRK are both Break); the vendor's own reasons of "
        "each group are in the hover.",
    )
    if reasons.empty:
        section.note("No not-ready time in this range.", "empty")
        return section
    reasons = reasons.assign(hours=reasons["not_ready_s"] / 3600)
    figure = _source_panels(
        reasons,
        "day",
        "hours",
        "reason_group",
        hover_data={"episodes": True, "reasons": True},
        color_discrete_sequence=px.colors.qualitative.Dark24,
        category_orders={"reason_group": sorted(reasons["reason_group"].unique())},
    )
    section.chart(figure)
    totals = (
        reasons.groupby(["source", "reason_group"], as_index=False)["hours"]
        .sum()
        .sort_values("hours", ascending=True)
    )
    figure = px.bar(
        totals, x="hours", y="reason_group", color="source", orientation="h", barmode="group"
    )
    _style(figure, max(300, 26 * len(totals) + 120), legend_on_top=True)
    figure.update_xaxes(type="linear", title_text="hours")
    figure.update_yaxes(type="category", title_text=None)
    section.chart(figure, "Whole range, by reason group")
    return section


def _acw_section(acw: pd.DataFrame) -> Section:
    section = Section(
        "acw",
        "After-call work trend",
        "Seconds of ACW per episode (ACW seconds of the day over ACW episodes that began that "
        "day, mart_acw_daily) and ACW's share of handle time (ACW / (busy + ACW)).",
    )
    if acw.empty:
        section.note("No ACW in this range.", "empty")
        return section
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("ACW seconds per episode", "ACW share of handle time (%)"),
    )
    palette = px.colors.qualitative.Safe
    for index, (source, rows) in enumerate(acw.groupby("source", sort=True)):
        color = palette[index % len(palette)]
        for column, col in (("avg_acw_s", 1), ("acw_share_pct", 2)):
            figure.add_scatter(
                x=rows["day"],
                y=rows[column],
                mode="lines+markers",
                name=source,
                legendgroup=source,
                showlegend=col == 1,
                line={"color": color, "width": 2},
                row=1,
                col=col,
            )
    section.chart(_style(figure, 360))
    return section


def _reconciliation_section(recon: pd.DataFrame) -> Section:
    section = Section(
        "reconciliation",
        "Reconciliation drift",
        "Event-derived seconds against the vendor's own summary report, per agent, UTC day and "
        "state (mart_reconciliation; vendors with a summary report only). diff = events − "
        "summary; drift is a difference beyond the tolerance the warehouse was built with.",
    )
    if recon.empty:
        section.note(
            "No reconciliation rows in this range (only vendors with a summary report, such as "
            "CXone, are reconciled).",
            "empty",
        )
        return section
    counts = recon.groupby(["source", "day", "status"], as_index=False).size()
    counts = counts.rename(columns={"size": "agent-day-states"})
    figure = _source_panels(
        counts,
        "day",
        "agent-day-states",
        "status",
        color_discrete_map=STATUS_COLORS,
        category_orders={"status": list(STATUS_COLORS)},
    )
    section.chart(figure, "Status per day")
    both_sides = recon[recon["status"].isin(["ok", "drift"])]
    figure = px.strip(
        both_sides,
        x="state",
        y="diff_s",
        color="status",
        color_discrete_map=STATUS_COLORS,
        category_orders={"status": list(STATUS_COLORS)},
        hover_data={"agent_id": True, "day": True, "event_s": True, "summary_s": True},
    )
    section.chart(
        _style(figure, 380, "events − summary (s)", legend_on_top=True),
        "Difference per agent-day-state where both sides have the state",
    )
    flagged = recon[recon["status"] != "ok"]
    if flagged.empty:
        section.note("Every agent-day-state is within the tolerance.")
        return section
    worst = flagged.assign(
        rank=flagged["status"].map({"drift": 0, "missing_events": 1}).fillna(2),
        size=-flagged["diff_s"].abs(),
    ).sort_values(["rank", "size"])
    section.parts.append("<h3>Flagged rows, drift first</h3>")
    section.parts.append(
        _table(
            worst,
            ["source", "agent_id", "day", "state", "event_s", "summary_s", "diff_s", "status"],
            WORST_RECONCILIATION_ROWS,
            "flagged agent-day-states",
        )
    )
    return section


@dataclass
class AdherenceData:
    """What the adherence section shows, each frame already text-safe and labelled."""

    daily: pd.DataFrame  # per agent and day, with `agent`
    by_activity: pd.DataFrame | None  # exceptions summed by activity and actual state
    exceptions: pd.DataFrame | None  # every exception, longest first, with `agent`
    by_site: pd.DataFrame  # per vendor tenant and site
    target_pct: float


def _adherence_section(data: AdherenceData) -> Section:
    adherence, exceptions, target = data.daily, data.by_activity, data.target_pct
    section = Section(
        "adherence",
        "Schedule adherence",
        "Share of scheduled time in which the agent's actual state was allowed by the "
        "scheduled activity (mart_adherence_daily: 100 × in-adherence / scheduled seconds), "
        f"against the target of {target:g} % (AGENTSTATE_ADHERENCE_TARGET_PCT).",
    )
    if adherence.empty:
        section.note("No scheduled time in this range.", "empty")
        return section
    team = adherence.groupby(["source", "day"], as_index=False)[
        ["in_adherence_s", "scheduled_s"]
    ].sum()
    team["adherence_pct"] = 100 * team["in_adherence_s"] / team["scheduled_s"]
    figure = px.line(team, x="day", y="adherence_pct", color="source", markers=True)
    _style(figure, 340, "adherence (%)", legend_on_top=True)
    figure.update_yaxes(range=[0, 100.5])
    figure.add_hline(
        y=target,
        line_dash="dash",
        line_color="#d62728",
        annotation_text=f"target {target:g} %",
        annotation_position="bottom right",
    )
    section.chart(figure, "All agents, per day")
    per_agent = adherence.groupby(["vendor", "tenant_id", "agent_id"])[
        ["in_adherence_s", "scheduled_s"]
    ].sum()
    below = int((100 * per_agent["in_adherence_s"] < target * per_agent["scheduled_s"]).sum())
    section.note(
        f"{below} of {len(per_agent)} agents are below the {target:g} % target over the range."
    )
    _site_rollup(section, data.by_site, target)
    for source, rows in adherence.groupby("source", sort=True):
        per_agent = rows.groupby("agent")[["in_adherence_s", "scheduled_s"]].sum()
        overall = (100 * per_agent["in_adherence_s"] / per_agent["scheduled_s"]).sort_values()
        shown = list(overall.index[:MAX_AGENTS_PER_CHART])
        grid = rows.pivot_table(
            index="agent", columns="day", values="adherence_pct", aggfunc="mean"
        ).reindex(shown)
        figure = go.Figure(
            go.Heatmap(
                z=grid.to_numpy(),
                x=list(grid.columns),
                y=list(grid.index),
                zmin=0,
                zmax=100,
                colorscale="RdYlGn",
                colorbar={"title": {"text": "%"}},
                hovertemplate="%{y}<br>%{x}: %{z:.1f}%<extra></extra>",
            )
        )
        _style(figure, max(300, 22 * len(shown) + 120))
        figure.update_yaxes(type="category", autorange="reversed")
        section.chart(figure, f"Per agent and day, lowest adherence first — {source}")
        if len(overall) > len(shown):
            section.note(f"The {len(shown)} of {len(overall)} agents with the lowest adherence.")
    if exceptions is not None and not exceptions.empty:
        exceptions = exceptions.assign(hours=exceptions["out_of_adherence_s"] / 3600)
        figure = _source_panels(
            exceptions,
            "activity",
            "hours",
            "actual_state",
            color_discrete_map=STATE_COLORS,
            hover_data={"exceptions": True},
        )
        section.chart(
            figure, "Out-of-adherence time by scheduled activity and what the agent did instead"
        )
    if data.exceptions is not None and not data.exceptions.empty:
        section.parts.append("<h3>Exceptions, longest first</h3>")
        section.parts.append(
            _table(
                data.exceptions.assign(minutes=data.exceptions["duration_s"] / 60),
                [
                    "source",
                    "agent",
                    "activity",
                    "start_utc",
                    "end_utc",
                    "minutes",
                    "actual_state",
                    "actual_reason",
                ],
                MAX_EXCEPTION_ROWS,
                "exceptions",
            )
        )
    return section


def _site_rollup(section: Section, by_site: pd.DataFrame, target: float) -> None:
    """Adherence per site, where the vendor names sites (agents of no site in one row)."""
    if by_site.empty or (by_site["site"] == "(no site)").all():
        section.note("No site is known for these agents (only CXone's snapshot names sites).")
        return
    rows = by_site.assign(
        adherence_pct=100 * by_site["in_adherence_s"] / by_site["scheduled_s"],
        scheduled_h=by_site["scheduled_s"] / 3600,
    )
    rows["vs_target"] = rows["adherence_pct"].map(
        lambda pct: "below" if pct < target else "at or above"
    )
    section.parts.append("<h3>By site</h3>")
    section.parts.append(
        _table(
            rows,
            ["source", "site", "agents", "scheduled_h", "adherence_pct", "vs_target"],
            len(rows),
            "sites",
        )
    )


def _intraday_section(intervals: pd.DataFrame, rta: pd.DataFrame | None) -> Section:
    section = Section(
        "intraday",
        "Today so far",
        "The latest report day by interval (mart_state_totals_interval, all agents of a tenant "
        "together) and, as of each tenant's last poll, who is logged in or scheduled and who is "
        "out of adherence since when (rta_now).",
    )
    if intervals.empty:
        section.note("No intervals in this range.", "empty")
    else:
        day = intervals["interval_start"].min().date()
        long = intervals.melt(
            id_vars=["vendor", "tenant_id", "interval_start"],
            value_vars=["ready_s", "not_ready_s", "busy_s", "acw_s", "unknown_s"],
            var_name="state",
            value_name="seconds",
        )
        long["state"] = long["state"].str.removesuffix("_s").str.upper()
        long["hours"] = long["seconds"] / 3600
        long["source"] = _source(long)
        figure = _source_panels(
            long, "interval_start", "hours", "state", color_discrete_map=STATE_COLORS
        )
        section.chart(figure, f"Agent-hours per interval and state, {day}")
    if rta is not None and not rta.empty:
        section.parts.append(_table(rta, list(rta.columns), MAX_AGENTS_PER_CHART, "agents"))
    return section


def _table(rows: pd.DataFrame, columns: Sequence[str], limit: int, what: str) -> str:
    """The first `limit` rows as an HTML table, headed by how many there are in all."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f'<td class="num">{value:,.3f}</td>'
        return f"<td>{html.escape(str(value))}</td>"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(cell(row[c]) for c in columns) + "</tr>"
        for _, row in rows.head(limit).iterrows()
    )
    shown = min(limit, len(rows))
    count = f"{len(rows):,} {what}" if shown == len(rows) else f"{shown:,} of {len(rows):,} {what}"
    return (
        f'<p class="count">{html.escape(count)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _tiles(
    state: pd.DataFrame, recon: pd.DataFrame, adherence: AdherenceData | None
) -> list[tuple[str, str]]:
    work = state["busy_s"].sum() + state["acw_s"].sum()
    available = work + state["ready_s"].sum()
    logged_in = state["logged_in_s"].sum()
    tiles = [
        ("agents", f"{len(state[['vendor', 'tenant_id', 'agent_id']].drop_duplicates()):,}"),
        ("agent-days", f"{len(state):,}"),
        ("logged-in time", _hours(logged_in)),
        ("occupancy", f"{100 * work / available:.1f} %" if available else "–"),
        (
            "not-ready share",
            f"{100 * state['not_ready_s'].sum() / logged_in:.1f} %" if logged_in else "–",
        ),
        ("reconciliation drift", f"{int((recon['status'] == 'drift').sum()):,} rows"),
    ]
    if adherence is not None and not adherence.daily.empty:
        scheduled = adherence.daily["scheduled_s"].sum()
        in_adherence = adherence.daily["in_adherence_s"].sum()
        pct = 100 * in_adherence / scheduled if scheduled else float("nan")
        tiles.append(("adherence", f"{pct:.1f} % (target {adherence.target_pct:g} %)"))
    return tiles


def _named(rows: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """`rows` with `agent`: the agent's name where the data gives one, else its id."""
    named = rows.merge(labels, on=["vendor", "tenant_id", "agent_id"], how="left")
    named["agent"] = named["agent"].fillna(named["agent_id"])
    return named


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target and rename, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_report(
    warehouse: WarehouseLocation,
    reports_dir: Path,
    start: date | None = None,
    end: date | None = None,
    generated_at: Callable[[], datetime] = lambda: datetime.now(UTC),
    adherence_target_pct: float = 90.0,
) -> Report:
    """Render report days [start, end) (default: every day the warehouse holds) to one file.

    The adherence section appears only when the warehouse has `mart_adherence_daily`; it
    measures against `adherence_target_pct` (AGENTSTATE_ADHERENCE_TARGET_PCT).
    """
    with read_only(warehouse) as con:
        present = set(table_names(con))
        missing = [t for t in REQUIRED_TABLES if t not in present]
        if missing:
            raise WarehouseError(
                f"the warehouse at {warehouse} lacks {', '.join(missing)}: "
                "run `agentstate rebuild` (or `agentstate backfill`) to build the marts"
            )
        start, end = _resolve_range(con, start, end)
        params = {"start": start, "end": end}
        state = frame(con, _sql("state_time"), params)
        if state.empty:
            span = frame(con, _sql("span")).iloc[0]
            raise WarehouseError(
                f"no agent-days in mart_state_totals_daily from {start} to {end} (exclusive); "
                f"the warehouse holds {span['first_day']} to {span['last_day']}"
            )
        labels = frame(con, _sql("agent_labels"), params)
        reasons = frame(con, _sql("not_ready_reasons"), params)
        acw = frame(con, _sql("acw_trend"), params)
        recon = frame(con, _sql("reconciliation"), params)
        intraday = frame(con, _sql("intraday_intervals"), params)
        rta = frame(con, _sql("rta_now")) if "rta_now" in present else None
        adherence = exceptions = exception_list = by_site = None
        if "mart_adherence_daily" in present:
            adherence = frame(con, _sql("adherence_daily"), params)
            by_site = frame(con, _sql("adherence_by_site"), params)
            if "mart_adherence_exceptions" in present:
                exceptions = _days(frame(con, _sql("adherence_exceptions"), params))
                exception_list = frame(con, _sql("adherence_exception_list"), params)

    # what only charts show is escaped here; tables (`_table`) escape their own cells
    state, reasons, acw = (_as_text(f) for f in (state, reasons, acw))
    table_labels = labels  # tables escape their own cells; charts need the text escaped
    labels, intraday = _as_text(labels), _as_text(intraday)
    state, reasons, acw, recon = _days(state), _days(reasons), _days(acw), _days(recon)
    sections = [
        _state_sections(state, labels),
        _reasons_section(reasons),
        _acw_section(acw),
        _reconciliation_section(recon),
    ]
    adherence_data = None
    if adherence is not None and by_site is not None:
        adherence_data = AdherenceData(
            daily=_named(_days(_as_text(adherence)), labels),
            by_activity=None if exceptions is None else _as_text(exceptions),
            exceptions=None
            if exception_list is None
            else _named(_days(exception_list), table_labels),
            by_site=_days(by_site),
            target_pct=adherence_target_pct,
        )
        sections.append(_adherence_section(adherence_data))
    sections.append(_intraday_section(intraday, rta))

    last = end - timedelta(days=1)
    title = f"Agent states {start} to {last}"
    page = Template((PAGE_DIR / "page.html").read_text()).substitute(
        title=html.escape(title),
        subtitle=html.escape(
            f"{len(state):,} agent-days, report days {start} to {last} inclusive, "
            f"from {warehouse.name}"
        ),
        toc="".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections),
        tiles="".join(
            f'<div class="tile"><div class="value">{html.escape(value)}</div>'
            f'<div class="label">{html.escape(label)}</div></div>'
            for label, value in _tiles(state, recon, adherence_data)
        ),
        sections="\n".join(s.render() for s in sections),
        footer=html.escape(
            f"Generated {generated_at():%Y-%m-%d %H:%M} UTC by agentstate report from {warehouse}. "
            "Days are report days of the zone the marts were built in (AGENTSTATE_REPORT_TZ); "
            "reconciliation days are UTC days."
        ),
        plotlyjs=get_plotlyjs(),
    )
    path = reports_dir / f"report-{start}-{end}.html"
    _write_atomically(path, page)
    return Report(
        path=path,
        start=start,
        end=end,
        agent_days=len(state),
        sections=tuple(s.anchor for s in sections),
    )
