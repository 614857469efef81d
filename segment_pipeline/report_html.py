"""A self-contained HTML page of how segments move: plotly charts, the library inline.

Members over time, daily additions and removals by reason, the join-time distribution of the
latest snapshot's members, persona coverage of company segments and journey entrants, for a
date range. The page loads nothing at view time (no CDN): it can be mailed or archived.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import plotly.graph_objects as go
from plotly.io import to_html
from sqlglot import exp

from segment_pipeline.report import journey_entrants_by_day
from segment_pipeline.sql import col, lit
from segment_pipeline.warehouse.engine import Warehouse


def _in_range(column: str, start: date, end: date) -> exp.Expr:
    return exp.Between(this=col(column), low=lit(start), high=lit(end))


def _segments(segment: str | None) -> exp.Expr:
    return exp.true() if segment is None else col("segment").eq(lit(segment))


def first_snapshot_date(warehouse: Warehouse) -> date | None:
    """The earliest snapshot date in the warehouse, if any."""
    value = warehouse.scalar(
        exp.select(exp.func("min", col("snapshot_date"))).from_("segment_snapshot_runs")
    )
    return value if isinstance(value, date) else None


def members_over_time(
    warehouse: Warehouse, segment: str | None, start: date, end: date
) -> go.Figure:
    """Members per snapshot date, a line per segment."""
    runs = warehouse.query(
        exp.select("snapshot_date", "segment", "members")
        .from_("segment_snapshot_runs")
        .where(_in_range("snapshot_date", start, end), _segments(segment))
        .order_by("segment", "snapshot_date")
    )
    figure = go.Figure()
    for name, frame in runs.groupby("segment"):
        figure.add_scatter(
            x=frame["snapshot_date"], y=frame["members"], name=str(name), mode="lines+markers"
        )
    return figure.update_layout(title="Members over time", xaxis_title="snapshot date")


def changes_by_reason(
    warehouse: Warehouse, segment: str | None, start: date, end: date
) -> go.Figure:
    """Additions (up) and removals by reason (down) per day."""
    reason = exp.func("coalesce", col("reason"), col("change"))
    changes = warehouse.query(
        exp.select(
            "snapshot_date",
            "change",
            exp.alias_(reason, "reason"),
            exp.alias_(exp.func("count", exp.Star()), "n"),
        )
        .from_("segment_deltas")
        .where(_in_range("snapshot_date", start, end), _segments(segment))
        .group_by("snapshot_date", "change", reason.copy())
        .order_by("snapshot_date")
    )
    figure = go.Figure()
    for (change, why), frame in changes.groupby(["change", "reason"]):
        sign = 1 if change == "added" else -1
        label = "added" if change == "added" else f"removed: {why}"
        figure.add_bar(x=frame["snapshot_date"], y=sign * frame["n"], name=label)
    return figure.update_layout(
        title="Daily additions (up) and removals by reason (down)", barmode="relative"
    )


def join_times(warehouse: Warehouse, segment: str | None, end: date) -> go.Figure:
    """A histogram of the join times of the latest snapshot's members."""
    latest = (
        exp.select(exp.func("max", col("snapshot_date")))
        .from_("segment_snapshot_runs")
        .where(col("snapshot_date") <= lit(end), _segments(segment))
    )
    members = warehouse.query(
        exp.select("segment", "joined_at")
        .from_("segment_snapshots")
        .where(
            col("snapshot_date").eq(latest.subquery()),
            _segments(segment),
            col("persona").is_(exp.null()),
        )
    )
    figure = go.Figure()
    for name, frame in members.groupby("segment"):
        figure.add_histogram(x=frame["joined_at"], name=str(name))
    return figure.update_layout(title="Join times of the current members", barmode="stack")


def persona_coverage(
    warehouse: Warehouse, segment: str | None, start: date, end: date
) -> go.Figure:
    """Picked contacts per day and persona (company segments)."""
    picked = warehouse.query(
        exp.select(
            "snapshot_date",
            "segment",
            "persona",
            exp.alias_(exp.func("count", exp.Star()), "contacts"),
        )
        .from_("segment_snapshots")
        .where(
            _in_range("snapshot_date", start, end),
            _segments(segment),
            col("persona").is_(exp.null()).not_(),
        )
        .group_by("snapshot_date", "segment", "persona")
        .order_by("snapshot_date")
    )
    figure = go.Figure()
    for (name, persona), frame in picked.groupby(["segment", "persona"]):
        figure.add_bar(x=frame["snapshot_date"], y=frame["contacts"], name=f"{name}: {persona}")
    return figure.update_layout(title="Picked contacts by persona", barmode="stack")


def entrants(warehouse: Warehouse, start: date, end: date) -> go.Figure:
    """Journey entrants per day, a bar per journey."""
    frame = journey_entrants_by_day(warehouse, start, end)
    figure = go.Figure()
    for name, rows in frame.groupby("journey"):
        figure.add_bar(x=rows["entered_on"], y=rows["entrants"], name=str(name))
    return figure.update_layout(title="Journey entrants per day", barmode="group")


def write_report(
    warehouse: Warehouse, out: Path, start: date, end: date, segment: str | None = None
) -> list[str]:
    """Write the page; return the titles of the charts that have data (the others are left out)."""
    figures = [
        members_over_time(warehouse, segment, start, end),
        changes_by_reason(warehouse, segment, start, end),
        join_times(warehouse, segment, end),
        persona_coverage(warehouse, segment, start, end),
        entrants(warehouse, start, end),
    ]
    shown = [figure for figure in figures if figure.data]
    title = f"Segments {segment or '(all)'}: {start} .. {end}"
    parts = [
        to_html(figure, include_plotlyjs=index == 0, full_html=False, div_id=f"chart-{index}")
        for index, figure in enumerate(shown)
    ]
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{''.join(parts)}</body></html>"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return [str(figure.layout.title.text) for figure in shown]
