"""The printable meeting page: one self-contained HTML page and its one-page PDF.

:func:`meeting_report` writes the page for the party-building joint meeting
(党建联席会议): the month's KPIs, the top problems with trend arrows, the
month's map as an inline SVG drawn from the unit polygons, and the monthly
theme.  Everything is inline (CSS, SVG): opening it makes no request.
:func:`meeting_pdf` prints it to one A4 landscape page with headless
Chromium (Debian's ``chromium``, installed with the CJK font
``fonts-wqy-microhei`` by ``scripts/ensure_chromium.sh``).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minqing.htmlsafe import escape_html
from minqing.analysis.kpis import KpiBoard
from minqing.errors import MinqingError
from minqing.i18n import fmt_int, fmt_month, t
from minqing.maps.classes import NO_DATA, PALETTE, class_breaks, class_labels, color_for

FONT_FAMILY = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
_SVG_W, _SVG_H = 560.0, 440.0


class ReportError(MinqingError):
    """The meeting page cannot be written or printed."""

    key = "meeting.error_pdf"


def fmt_pct(value, digits: int = 1) -> str:
    """Format a rate (0..1) as a percentage, "—" when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value * 100:.{digits}f}%"


def fmt_change(change, lang: str = "zh") -> str:
    """Format a change of a rate in percentage points, e.g. "+2.5 个百分点" / "+2.5 pp"."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return t("meeting.no_comparison", lang)
    return t("meeting.pp", lang, value=f"{change * 100:+.1f}")


def meeting_report(
    board: KpiBoard,
    top: pd.DataFrame,
    units: gpd.GeoDataFrame,
    *,
    scope_label: str,
    theme_label: str | None = None,
    has_unplaced: bool = False,
    lang: str = "zh",
    generated_at=None,
) -> str:
    """Return the one-page meeting report as a self-contained HTML string.

    Parameters
    ----------
    board : KpiBoard
        The month's indicators (:func:`minqing.analysis.kpis.kpi_board`).
    top : DataFrame
        Top problems labelled by :func:`minqing.analysis.top_problems.label_problems`.
    units : GeoDataFrame
        The map's units (EPSG:4326) with ``name`` (and ``name_en``) and
        ``tickets`` of the month.
    scope_label : str
        What the page covers, e.g. the sub-district's name.
    theme_label : str, optional
        The monthly theme (每月一题), when one is chosen.
    has_unplaced : bool
        Whether some top rows group tickets without a place by grid (a note is printed).
    lang : {"zh", "en"}
    generated_at : Timestamp, optional
        Printed in the footer.

    Returns
    -------
    str
        The HTML page; all text from the data is escaped.
    """
    need = {"where_name", "where_kind", "category_name", "tickets", "problems", "arrow_month", "arrow_3m"}
    missing = sorted(need - set(top.columns))
    if missing:
        raise ReportError(
            f"the top-problems table lacks column(s) {missing}; label it with label_problems() first",
            key="meeting.error_report_columns",
            columns=", ".join(missing),
        )
    if units.crs is not None and units.crs.to_epsg() != 4326:
        units = units.to_crs(4326)
    return _page(board, top, units, scope_label, theme_label, has_unplaced, lang, generated_at)


def _page(board, top, units, scope_label, theme_label, has_unplaced, lang, generated_at) -> str:
    e = escape_html
    title = t("meeting.report_title", lang)
    month = fmt_month(pd.Period(board.month, "M").start_time, lang)
    theme = (
        f'<span class="theme">{e(t("meeting.theme", lang))}：{e(theme_label)}</span>' if theme_label else ""
    )
    generated = "" if generated_at is None else e(pd.Timestamp(generated_at).strftime("%Y-%m-%d %H:%M"))
    defs = "".join(
        f"<li><b>{e(t(f'meeting.kpi_{k.code}', lang))}</b>：{e(t(f'meeting.kpi_{k.code}_help', lang))}</li>"
        for k in board.kpis
    )
    unplaced = f'<p class="note">{e(t("meeting.unplaced_note", lang))}</p>' if has_unplaced else ""
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{e(title)} · {e(month)}</title>
<style>{_CSS}</style></head>
<body><div class="page">
<header><h1>{e(title)}</h1>
<div class="sub"><span>{e(month)}</span><span>{e(scope_label)}</span>{theme}
<span>{e(t("meeting.tickets_total", lang, n=fmt_int(board.tickets, lang)))}</span></div></header>
{kpi_cards_html(board, lang)}
<main><section class="map"><h2>{e(t("meeting.map_heading", lang))}</h2>{unit_svg(units, lang)}</section>
<section class="top"><h2>{e(t("meeting.top_heading", lang))}</h2>{top_table_html(top, lang, bool(theme_label))}{unplaced}</section></main>
<footer><ul class="defs">{defs}</ul>
<p>{e(t("meeting.footer", lang, generated=generated))}</p></footer>
</div></body></html>"""


def kpi_cards_html(board: KpiBoard, lang: str = "zh") -> str:
    """Return the KPI cards as an HTML fragment (value, change vs last month and last year)."""
    e = escape_html
    cards = []
    for k in board.kpis:
        extra = ""
        if k.code == "resolution" and k.partly is not None:
            extra = f'<div class="vs">{e(t("meeting.partly", lang, value=fmt_pct(k.partly)))}</div>'
        cards.append(
            f'<div class="card"><div class="name">{e(t(f"meeting.kpi_{k.code}", lang))}</div>'
            f'<div class="value">{e(fmt_pct(k.value))}</div>'
            f'<div class="vs">{e(t("meeting.vs_month", lang))} {_change_span(k.change_month, lang)}</div>'
            f'<div class="vs">{e(t("meeting.vs_year", lang))} {_change_span(k.change_year, lang)}</div>{extra}</div>'
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _change_span(change, lang) -> str:
    cls = "na" if change is None else ("up" if change > 0 else "down" if change < 0 else "flat")
    return f'<span class="{cls}">{escape_html(fmt_change(change, lang))}</span>'


def top_table_html(top: pd.DataFrame, lang: str = "zh", short_category: bool = False) -> str:
    """Return the top-problems table as an HTML fragment (every cell escaped).

    With ``short_category`` only the last level of each category is shown
    (when a monthly theme already names the parent).
    """
    e = escape_html
    if top.empty:
        return f'<p class="empty">{e(t("meeting.top_empty", lang))}</p>'
    head = "".join(
        f"<th>{e(t(k, lang))}</th>"
        for k in ("meeting.col_rank", "meeting.col_where", "meeting.col_kind", "meeting.col_category",
                  "meeting.col_tickets", "meeting.col_problems", "meeting.col_vs_month", "meeting.col_vs_3m")
    )
    rows = []
    for i, r in enumerate(top.itertuples(index=False), start=1):
        rows.append(
            f"<tr><td>{i}</td><td class='where'>{e(str(r.where_name))}{_flag(r, lang)}</td>"
            f"<td class='kind'>{e(str(r.where_kind))}</td>"
            f"<td class='cat'>{e(str(r.category_name).split(' > ')[-1] if short_category else str(r.category_name))}</td><td class='num'>{fmt_int(r.tickets, lang)}</td>"
            f"<td class='num'>{fmt_int(r.problems, lang)}</td>"
            f"<td class='arrow {e(str(r.trend_month))}'>{e(str(r.arrow_month))}</td>"
            f"<td class='arrow {e(str(r.trend_3m))}'>{e(str(r.arrow_3m))}</td></tr>"
        )
    return f'<table class="toptable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _flag(row, lang: str) -> str:
    """The channel flag of a top-10 row ("扫码上报 61 %") as an escaped HTML fragment, or ""."""
    note = getattr(row, "channel_note", "") or ""
    if not note:
        return ""
    return f"<span class='flag' title='{escape_html(t('meeting.flag_help', lang))}'>{escape_html(note)}</span>"


def unit_svg(units: gpd.GeoDataFrame, lang: str = "zh", width: float = _SVG_W, height: float = _SVG_H) -> str:
    """Return an inline SVG choropleth of ``units`` shaded by ``tickets``, with a legend.

    Coordinates are projected equirectangularly around the units' centre
    (fine at city scale) and simplified to about a pixel.
    """
    e = escape_html
    if units is None or units.empty:
        return f'<p class="empty">{e(t("meeting.map_empty", lang))}</p>'
    minx, miny, maxx, maxy = units.total_bounds
    kx = math.cos(math.radians((miny + maxy) / 2))
    legend_h = 46.0
    scale = min((width - 8) / max((maxx - minx) * kx, 1e-9), (height - legend_h - 8) / max(maxy - miny, 1e-9))
    tol = 0.8 / scale  # about a pixel, in degrees

    def xy(coords):
        a = np.asarray(coords)[:, :2]
        x = 4 + (a[:, 0] - minx) * kx * scale
        y = 4 + (maxy - a[:, 1]) * scale
        return " ".join(f"{u:.1f},{v:.1f}" for u, v in zip(x, y))

    values = units["tickets"].astype("float64").to_numpy()
    breaks = class_breaks(values)
    names = units["name"].astype("object")
    if lang != "zh" and "name_en" in units.columns:
        en = units["name_en"].astype("object")
        names = en.where(en.notna(), names)
    paths, labels = [], []
    label_top = set(np.argsort(-np.nan_to_num(values))[: min(8, len(units))]) if len(units) > 12 else set(range(len(units)))
    for i, (geom, value, name) in enumerate(zip(units.geometry, values, names)):
        if geom is None or geom.is_empty:
            continue
        g = shapely.simplify(geom, tol, preserve_topology=True)
        d = []
        for poly in getattr(g, "geoms", [g]):
            if poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                d.append("M" + xy(ring.coords) + "Z")
        fill = color_for(value, breaks)
        tip = f"{name}: {fmt_int(value, lang)}"
        paths.append(f'<path d="{" ".join(d)}" fill="{fill}" fill-rule="evenodd"><title>{e(tip)}</title></path>')
        if i in label_top:
            p = geom.representative_point()
            x = 4 + (p.x - minx) * kx * scale
            y = 4 + (maxy - p.y) * scale
            labels.append(f'<text x="{x:.1f}" y="{y:.1f}">{e(str(name))}</text>')
    legend = _svg_legend(breaks, height - legend_h + 6, lang)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" class="mapsvg" '
        f'role="img" aria-label="{e(t("meeting.map_heading", lang))}">'
        f'<g class="units" stroke="#555" stroke-width="0.6">{"".join(paths)}</g>'
        f'<g class="labels">{"".join(labels)}</g>{legend}</svg>'
    )


def _svg_legend(breaks: list[float], y: float, lang: str) -> str:
    e = escape_html
    items = [f'<text x="4" y="{y + 10:.0f}" class="lt">{e(t("meeting.legend_title", lang))}</text>']
    if len(breaks) < 2:
        items.append(f'<rect x="4" y="{y + 16:.0f}" width="22" height="12" fill="{PALETTE[0] if breaks else NO_DATA}"/>')
        return f'<g class="legend">{"".join(items)}</g>'
    for j, text in enumerate(class_labels(breaks, lang)):
        x = 4 + j * 92
        color = color_for(breaks[j + 1], breaks)
        items.append(f'<rect x="{x}" y="{y + 16:.0f}" width="22" height="12" fill="{color}" stroke="#555" stroke-width="0.5"/>')
        items.append(f'<text x="{x + 26}" y="{y + 26:.0f}">{e(text)}</text>')
    return f'<g class="legend">{"".join(items)}</g>'


_CSS = f"""
@page {{ size: A4 landscape; margin: 8mm; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; }}
body {{ font-family: {FONT_FAMILY}; color: #1a1a1a; font-size: 10.5pt;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
.page {{ width: 281mm; height: 192mm; overflow: hidden; display: flex; flex-direction: column; gap: 2.5mm; }}
header {{ border-bottom: 2px solid #b71c1c; padding-bottom: 1.5mm; }}
h1 {{ font-size: 19pt; margin: 0; color: #b71c1c; }}
h2 {{ font-size: 12pt; margin: 0 0 1.5mm 0; }}
.sub {{ display: flex; gap: 6mm; font-size: 11pt; color: #333; margin-top: 1mm; }}
.sub .theme {{ color: #b71c1c; font-weight: bold; }}
.cards {{ display: grid; grid-template-columns: repeat(5, 1fr); gap: 3mm; }}
.card {{ border: 1px solid #ccc; border-radius: 2mm; padding: 1.8mm 2.5mm; background: #fafafa; }}
.card .name {{ font-size: 10.5pt; color: #444; }}
.card .value {{ font-size: 21pt; font-weight: bold; line-height: 1.15; }}
.card .vs {{ font-size: 8.5pt; color: #555; }}
.up {{ color: #1b7f3b; }} .down {{ color: #c62828; }} .flat, .na {{ color: #777; }}
main {{ display: flex; gap: 4mm; flex: 1; min-height: 0; }}
section.map {{ width: 42%; }}
section.top {{ flex: 1; }}
.mapsvg {{ width: 100%; height: auto; max-height: 118mm; }}
.mapsvg text {{ font-size: 10px; fill: #111; }}
.mapsvg .legend text {{ font-size: 12px; }}
.mapsvg .labels text {{ text-anchor: middle; }}
table.toptable {{ border-collapse: collapse; width: 100%; font-size: 9pt; line-height: 1.25; }}
.toptable th {{ background: #b71c1c; color: #fff; font-weight: normal; padding: 1mm 1.2mm; text-align: left; font-size: 8.5pt; }}
.toptable td {{ border-bottom: 1px solid #ddd; padding: 0.9mm 1.2mm; }}
.toptable td.num, .toptable td.arrow {{ white-space: nowrap; }}
.toptable td.where {{ width: 34%; }} .toptable td.cat {{ width: 27%; }}
.toptable td.num {{ text-align: right; }}
.flag {{ display: inline-block; margin-left: 1.5mm; padding: 0 1mm; border: 1px solid #e65100; border-radius: 1mm;
  color: #e65100; font-size: 0.85em; white-space: nowrap; }}
.toptable td.arrow {{ font-size: 13pt; text-align: center; font-weight: bold; }}
.toptable td.arrow.up {{ color: #c62828; }} .toptable td.arrow.down {{ color: #1b7f3b; }}
.note, .empty {{ font-size: 8.5pt; color: #555; margin: 1mm 0; }}
footer {{ font-size: 7.5pt; color: #555; border-top: 1px solid #ccc; padding-top: 1mm; }}
footer ul.defs {{ margin: 0; padding-left: 4mm; columns: 2; column-gap: 6mm; }}
footer p {{ margin: 0.8mm 0 0 0; }}
"""


def find_chromium() -> str | None:
    """Return the path of a Chromium executable, or None when there is none."""
    env = os.environ.get("MINQING_CHROMIUM")
    for cand in ((env,) if env else ()) + CHROMIUM_CANDIDATES:
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found


def meeting_pdf(page_html: str, timeout: float = 60.0) -> bytes:
    """Print an HTML page (from :func:`meeting_report`) to PDF bytes with headless Chromium.

    Parameters
    ----------
    page_html : str
        A self-contained page; the printer runs with networking disabled.
    timeout : float
        Seconds to wait for Chromium.

    Returns
    -------
    bytes
        The PDF (one A4 landscape page for a meeting report).
    """
    if not isinstance(page_html, str) or "<html" not in page_html[:500].lower():
        raise ReportError("meeting_pdf needs an HTML page (a string from meeting_report())",
                          key="meeting.error_pdf_input")
    exe = find_chromium()
    if exe is None:
        raise ReportError(
            f"no Chromium found (looked at {', '.join(CHROMIUM_CANDIDATES)} and $MINQING_CHROMIUM); "
            "install it with `bash scripts/ensure_chromium.sh` or download the HTML page and print it",
            key="meeting.error_no_chromium",
        )
    return _print_pdf(exe, page_html, timeout)


def _print_pdf(exe: str, page_html: str, timeout: float) -> bytes:
    with tempfile.TemporaryDirectory(prefix="minqing-pdf-") as tmp:
        src = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        src.write_text(page_html, encoding="utf-8")
        cmd = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-extensions", "--no-first-run", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
            f"--user-data-dir={Path(tmp) / 'profile'}", f"--print-to-pdf={out}", src.as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ReportError(f"Chromium did not finish printing within {timeout:.0f} s; try again or use the HTML page",
                              key="meeting.error_pdf", reason="timeout") from exc
        if not out.is_file() or out.stat().st_size == 0:
            reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            raise ReportError(f"Chromium could not print the page ({reason[0]}); use the HTML page instead",
                              key="meeting.error_pdf", reason=reason[0])
        return out.read_bytes()
