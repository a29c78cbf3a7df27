"""A self-contained HTML page: headings, tables and vega-lite charts, viewable offline.

The chart libraries (vega, vega-lite, vega-embed) are inlined once per page from the copy
that Splink ships, so a report opens with the network off. Every value put on the page is
escaped: names in the data are text, never markup.
"""

from __future__ import annotations

import html
import json

import pandas as pd
from splink.internals.html_utils import json_for_html, load_chart_libraries

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
     color:#1b1b1b;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:2px solid #1d70b8;
   padding-bottom:.2rem} .lede{color:#505a5f}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem} th,td{border:1px solid #b1b4b6;padding:.25rem .5rem;
   text-align:left;vertical-align:top} th{background:#f3f2f1} td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#505a5f;font-size:.9rem} .chart{margin:.6rem 0}
.figures{display:flex;flex-wrap:wrap;gap:1rem} .figure{border:1px solid #b1b4b6;padding:.6rem 1rem;min-width:9rem}
.figure b{display:block;font-size:1.4rem}
details{margin:.3rem 0} summary{cursor:pointer}
"""


def esc(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


class Page:
    """Collects sections in order and renders one HTML document."""

    def __init__(self, title: str, lede: str = ""):
        self.title, self.lede = title, lede
        self.parts: list[str] = []
        self.charts: list[tuple[str, dict]] = []

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{esc(text)}</h2>")

    def paragraph(self, text: str, cls: str = "") -> None:
        self.parts.append(f'<p class="{esc(cls)}">{esc(text)}</p>' if cls else f"<p>{esc(text)}</p>")

    def figures(self, items: dict[str, object]) -> None:
        cells = "".join(f'<div class="figure"><b>{esc(v)}</b>{esc(k)}</div>' for k, v in items.items())
        self.parts.append(f'<div class="figures">{cells}</div>')

    def table(self, frame: pd.DataFrame, *, float_format: str = "{:.3f}") -> None:
        if frame.empty:
            self.paragraph("(none)", "note")
            return
        head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
        rows = []
        for rec in frame.itertuples(index=False):   # a report table: a few dozen rows at most
            cells = []
            for v in rec:
                if isinstance(v, float) and not pd.isna(v):
                    cells.append(f'<td class="num">{esc(float_format.format(v))}</td>')
                elif isinstance(v, (int,)) and not isinstance(v, bool):
                    cells.append(f'<td class="num">{esc(f"{v:,}")}</td>')
                else:
                    cells.append(f"<td>{esc(v)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def markup(self, fragment: str) -> None:
        """Append HTML built elsewhere; every value in it must already be escaped (``esc``, ``sql_escape``)."""
        self.parts.append(fragment)

    def chart(self, spec: dict) -> None:
        div = f"chart{len(self.charts)}"
        self.charts.append((div, spec))
        self.parts.append(f'<div class="chart" id="{div}"></div>')

    def render(self) -> str:
        scripts = ""
        if self.charts:
            libs = load_chart_libraries()
            scripts = "".join(f"<script>{libs[name]}</script>" for name in ("vega", "vega-lite", "vega-embed"))
            calls = "".join(f"vegaEmbed('#{div}', {json_for_html(spec)}, {{actions:false}});"
                            for div, spec in self.charts)
            scripts += f"<script>{calls}</script>"
        lede = f'<p class="lede">{esc(self.lede)}</p>' if self.lede else ""
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:\">"
                f"<title>{esc(self.title)}</title><style>{STYLE}</style></head><body>"
                f"<h1>{esc(self.title)}</h1>{lede}{''.join(self.parts)}{scripts}</body></html>")


def bar_chart(frame: pd.DataFrame, x: str, y: str, *, title: str = "", horizontal: bool = False,
              color: str | None = None, width: int = 600, height: int = 260, x_type: str = "nominal") -> dict:
    """A vega-lite bar chart spec over ``frame``'s records (``x_type`` "ordinal" keeps numeric order,
    "quantitative" draws a numeric axis)."""
    x_enc = {"field": x, "type": x_type if not horizontal else "quantitative", "title": x.replace("_", " ")}
    y_enc = {"field": y, "type": "quantitative" if not horizontal else "nominal", "title": y.replace("_", " ")}
    if horizontal:
        x_enc, y_enc = {"field": y, "type": "quantitative", "title": y.replace("_", " ")}, \
            {"field": x, "type": "nominal", "sort": None, "title": None}
    enc = {"x": x_enc, "y": y_enc}
    if color:
        enc["color"] = {"field": color, "type": "nominal"}
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": title, "width": width,
            "height": height, "data": {"values": json.loads(frame.to_json(orient="records"))},
            "mark": "bar", "encoding": enc}


def sql_escape(expr: str) -> str:
    """DuckDB SQL that HTML-escapes the text of ``expr`` exactly as ``esc`` does (NULL becomes '')."""
    out = f"coalesce(CAST(({expr}) AS VARCHAR), '')"
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
        out = f"replace({out}, '{char.replace(chr(39), chr(39) * 2)}', '{entity}')"
    return out


def table_head(columns: list[str]) -> str:
    """The ``<thead>`` of a table with these column headers."""
    return "<thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in columns) + "</tr></thead>"


def sql_table_row(columns: list[str]) -> str:
    """DuckDB SQL giving one escaped ``<tr>`` of the named columns: aggregate it into long tables."""
    cells = " || ".join(f"'<td>' || {sql_escape(quote_identifier(c))} || '</td>'" for c in columns)
    return f"'<tr>' || {cells} || '</tr>'"


def sql_table(con, query: str, columns: list[str]) -> str:
    """Render ``query``'s rows as an HTML table inside DuckDB, for tables too long to render in Python.

    ``columns`` (output columns of ``query``) become the headers; rows keep the order of the
    query's ``_order`` column; every value is escaped by ``sql_escape``.
    """
    body = con.execute(f"SELECT string_agg({sql_table_row(columns)}, '' ORDER BY _order) FROM ({query})").fetchone()[0]
    if body is None:
        return '<p class="note">(none)</p>'
    return f"<table>{table_head(columns)}<tbody>{body}</tbody></table>"


def quote_identifier(name: str) -> str:
    """SQL-quote a column name."""
    return '"' + str(name).replace('"', '""') + '"'
