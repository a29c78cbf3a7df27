"""Draw results.csv as an SVG chart: seconds per phase and peak memory against records, log-log.

Hand-written SVG (no plotting library, no browser): on log-log axes a straight line of slope 1
is linear growth, which is what the chart is for. A dashed grey line of slope 1 through the
smallest end-to-end point shows where linear growth would put the others.

    python benchmarks/chart.py [results.csv] [chart.svg]
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERIES = (("end to end", "#222222"), ("train", "#1f77b4"), ("link", "#d62728"), ("trace", "#2ca02c"),
          ("validate", "#9467bd"))
WIDTH, HEIGHT, MARGIN = 420, 300, 55


def _read(path: Path, backend: str) -> dict[str, list[tuple[float, float, float]]]:
    """(records, seconds, peak MB) per phase for one backend, in order of records."""
    series: dict[str, list[tuple[float, float, float]]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["backend"] != backend or row["step"]:
                continue
            peak = float(row["peak_rss_mb"]) if row["peak_rss_mb"] else float("nan")
            series.setdefault(row["phase"], []).append((float(row["records"]), float(row["seconds"]), peak))
    return {k: sorted(v) for k, v in series.items()}


def _ticks(lo: float, hi: float) -> list[float]:
    return [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]


def _panel(series: dict, value: int, title: str, unit: str, x0: float) -> list[str]:
    """One log-log panel: x = records, y = field ``value`` of each point."""
    points = [(p[0], p[value]) for pts in series.values() for p in pts if p[value] > 0]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    xt, yt = _ticks(min(xs), max(xs)), _ticks(min(ys), max(ys))
    lx0, lx1, ly0, ly1 = math.log10(xt[0]), math.log10(xt[-1]), math.log10(yt[0]), math.log10(yt[-1])

    def sx(x: float) -> float:
        return x0 + MARGIN + (math.log10(x) - lx0) / (lx1 - lx0) * (WIDTH - MARGIN - 15)

    def sy(y: float) -> float:
        return HEIGHT - MARGIN + 15 - (math.log10(y) - ly0) / (ly1 - ly0) * (HEIGHT - MARGIN - 15)

    out = [f'<text x="{x0 + WIDTH / 2:.0f}" y="16" text-anchor="middle" font-weight="bold">{title}</text>']
    for t in xt:
        out.append(f'<line x1="{sx(t):.1f}" y1="{sy(yt[0]):.1f}" x2="{sx(t):.1f}" y2="{sy(yt[-1]):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{sx(t):.1f}" y="{sy(yt[0]) + 14:.1f}" text-anchor="middle">{t:,.0f}</text>')
    for t in yt:
        out.append(f'<line x1="{sx(xt[0]):.1f}" y1="{sy(t):.1f}" x2="{sx(xt[-1]):.1f}" y2="{sy(t):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{sx(xt[0]) - 4:.1f}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    out.append(f'<text x="{x0 + WIDTH / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle">records (log)</text>')
    out.append(f'<text x="{x0 + 12}" y="{HEIGHT / 2:.0f}" transform="rotate(-90 {x0 + 12} {HEIGHT / 2:.0f})" '
               f'text-anchor="middle">{unit} (log)</text>')
    first = series.get("end to end", [])
    if value == 1 and len(first) > 1:      # linear growth from the smallest point
        (r0, s0, _), r1 = first[0], first[-1][0]
        out.append(f'<line x1="{sx(r0):.1f}" y1="{sy(s0):.1f}" x2="{sx(r1):.1f}" y2="{sy(s0 * r1 / r0):.1f}" '
                   'stroke="#999" stroke-dasharray="4 3"/>')
    for name, colour in SERIES:
        pts = [(p[0], p[value]) for p in series.get(name, []) if p[value] > 0]
        if not pts:
            continue
        path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(pts))
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}"/>' for x, y in pts]
    return out


def write_chart(results: Path, out: Path, backend: str = "duckdb") -> Path:
    """Write the chart of ``backend``'s rows of ``results`` to ``out`` (SVG)."""
    series = _read(results, backend)
    body = _panel(series, 1, "Wall time per phase", "seconds", 0)
    body += _panel(series, 2, "Peak memory per phase", "MB", WIDTH + 20)
    legend_x = 2 * WIDTH + 40
    for i, (name, colour) in enumerate(SERIES):
        y = 40 + 18 * i
        body.append(f'<rect x="{legend_x}" y="{y - 9}" width="12" height="12" fill="{colour}"/>')
        body.append(f'<text x="{legend_x + 18}" y="{y + 2}">{name}</text>')
    body.append(f'<text x="{legend_x}" y="{40 + 18 * len(SERIES) + 10}" fill="#666">dashed: linear growth</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * WIDTH + 150}" height="{HEIGHT}" '
           f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>'
           + "".join(body) + "</svg>\n")
    out.write_text(svg, encoding="utf-8")
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    write_chart(Path(args[0]) if args else HERE / "results.csv", Path(args[1]) if len(args) > 1 else HERE / "chart.svg")
