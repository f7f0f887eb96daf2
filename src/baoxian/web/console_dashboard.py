"""The console's dashboard (经营看板): policies in force, straight-through rate, report to
payment p50/p90, loss ratio and the online servicing rate — server-drawn SVG bars (no
script, no inline styles) with the same numbers in tables.  Staff only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from baoxian.claims.metrics import MetricsRow
from baoxian.dashboards import Dashboard, dashboard
from baoxian.web.claim_views import duration
from baoxian.web.console_claims import page_of

router = APIRouter(prefix="/console")

LABEL_WIDTH = 170
BAR_SPACE = 300
BAR_HEIGHT = 18
GAP = 8


@dataclass(frozen=True, slots=True)
class Bar:
    y: int
    width: int
    text: str
    css: str

    @property
    def text_x(self) -> int:
        return LABEL_WIDTH + self.width + 6


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    y: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """A horizontal bar chart laid out for SVG: one line per label, one or more bars each."""

    lines: tuple[Line, ...]
    height: int
    bar_x: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


Rows = list[tuple[str, list[tuple[Fraction, str, str]]]]


def chart(rows: Rows) -> Chart:
    """Lay out ``(label, [(value, text, css class), …])`` rows, bars scaled to the largest
    value (a zero chart draws no bars).

    >>> drawn = chart([("A", [(Fraction(2), "2", "bar")]), ("B", [(Fraction(1), "1", "bar")])])
    >>> [line.bars[0].width for line in drawn.lines], drawn.height
    ([300, 150], 64)
    """
    top = max((value for _, bars in rows for value, _, _ in bars), default=Fraction(0))
    lines = []
    y = GAP
    for label, bars in rows:
        placed = []
        for value, text, css in bars:
            width = round(BAR_SPACE * value / top) if top > 0 else 0
            placed.append(Bar(y, width, text, css))
            y += BAR_HEIGHT + 2
        lines.append(Line(label, placed[0].y + BAR_HEIGHT - 4 if placed else y, tuple(placed)))
        y += GAP
    return Chart(tuple(lines), y)


def percent(ratio: Fraction | None) -> str:
    """``Fraction(5, 8)`` → ``62.5%``; None → ``—``."""
    if ratio is None:
        return "—"
    exact = Decimal(ratio.numerator) * 100 / Decimal(ratio.denominator)
    return f"{exact.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _key(row: MetricsRow) -> str:
    return f"{row.product_code} · {row.channel}"


def charts(board: Dashboard, zh: bool) -> dict[str, Chart]:
    """The four charts of the dashboard."""
    in_force: Rows = [
        (p.product_code, [(Fraction(p.in_force), str(p.in_force), "bar")]) for p in board.products
    ]
    stp: Rows = [
        (_key(r), [(r.stp_rate or Fraction(0), percent(r.stp_rate), "bar")]) for r in board.claims
    ]
    speed: Rows = [(_key(r), _speed_bars(r, zh)) for r in board.claims]
    loss: Rows = [
        (p.product_code, [(p.loss_ratio or Fraction(0), percent(p.loss_ratio), "bar")])
        for p in board.products
    ]
    return {
        "in_force": chart(in_force),
        "stp": chart(stp),
        "speed": chart(speed),
        "loss": chart(loss),
    }


def _speed_bars(row: MetricsRow, zh: bool) -> list[tuple[Fraction, str, str]]:
    p50, p90 = row.report_to_payment.p50, row.report_to_payment.p90
    return [
        (Fraction(p50 or 0), f"p50 {duration(p50, zh)}", "bar"),
        (Fraction(p90 or 0), f"p90 {duration(p90, zh)}", "bar bar-alt"),
    ]


@router.get("/dashboard")
def dashboard_page(request: Request) -> Response:
    page = page_of(request)
    staff = page.staff()
    if staff is None:
        return RedirectResponse("/console", status_code=303)
    app = page.web.app
    board = dashboard(app.uow, app.engine, app.changes)
    return page.render(
        "console/dashboard.html",
        staff=staff,
        board=board,
        charts=charts(board, page.locale == "zh_CN"),
        percent=percent,
        duration=lambda seconds: duration(seconds, page.locale == "zh_CN"),
    )


__all__ = ["Bar", "Chart", "Line", "chart", "percent", "router"]
