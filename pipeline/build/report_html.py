"""``python -m pipeline report DIR --html FILE``: the report as one self-contained HTML page.

The tables of ``report`` and the pictures of plots.py, each PNG inline as a ``data:`` URI: the page
needs no network and no other file, so it can be mailed, archived or opened from a CI artifact.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .. import __version__
from ..errors import UsageError
from ..files import write_atomically
from .plots import PLOTS
from .report import CorpusReport, author_rows, cuts_by_rule, drops_by_step, language_rows, length_rows, split_rows

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.meta { color: #555; } table { border-collapse: collapse; margin: .6em 0; }
th, td { padding: .25em .8em; border-bottom: 1px solid #e4e4e4; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } tr.total td { font-weight: 600; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; border: 1px solid #eee; }
.grid { display: flex; flex-wrap: wrap; gap: 0 3em; } code { background: #f4f4f4; padding: 0 .25em; }
"""


def _cell(value) -> str:
    if value is None:
        return '<td class="n">–</td>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="n">{value:,}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def _table(header: list[str], rows: list[list], total_last: bool = False) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for n, row in enumerate(rows):
        total = ' class="total"' if total_last and n == len(rows) - 1 else ""
        body.append(f"<tr{total}>{''.join(_cell(v) for v in row)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{''.join(parts)}</section>"


def render_html(report: CorpusReport) -> str:
    """The page, pictures included; matplotlib draws them here."""
    manifest, books = report.manifest, report.books
    shelf = manifest.get("shelf", {})
    name = f"{shelf.get('name') or shelf.get('slug') or 'corpus'}"
    drops = drops_by_step(report)
    drop_rows = [[step, reason, n] for step, kinds in drops.items() for reason, n in kinds.items()]
    dropped = sum(row[2] for row in drop_rows)
    rules = cuts_by_rule(report)
    selectors = ", ".join(shelf.get("selectors", [])) or "?"
    tables = [
        _section("Splits", _table(["split", "books", "words", "characters", "bytes", "shards"], split_rows(report),
                                  total_last=True)),
        _section(f"Left out: {dropped:,} of {len(books):,} books",
                 _table(["step", "reason", "books"], drop_rows) if drop_rows else "<p>No book was left out.</p>"),
        '<div class="grid">',
        _section("Languages detected", _table(["language", "kept", "dropped"], language_rows(report))),
        _section("Book length in words", _table(["split", "min", "median", "max"], length_rows(report))),
        "</div>",
        _section("Cleaning cuts (kept books)",
                 _table(["rule", "cuts", "books", "input lines"],
                        [[rule, c["cuts"], c["books"], c["lines"]] for rule, c in rules.items()])
                 if rules else "<p>Nothing was cut.</p>"),
        _section("Top authors (kept books)", _table(["author", "books"], author_rows(report))),
    ]
    figures = []
    for key, heading, draw in PLOTS:
        data = base64.b64encode(draw(report)).decode("ascii")
        figures.append(f'<figure id="plot-{key}"><img src="data:image/png;base64,{data}" '
                       f'alt="{html.escape(heading)}"><figcaption>{html.escape(heading)}</figcaption></figure>')
    title = f"{name} — corpus version {manifest['version']}"
    return (
        f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p class=\"meta\">selected by <code>{html.escape(selectors)}</code>; built "
        f"{html.escape(str(manifest.get('created', '?')))} from "
        f"{html.escape(str(manifest.get('source', {}).get('base_url', '?')))} by gutenberg-lstm "
        f"{html.escape(str(manifest.get('tool', {}).get('version', '?')))}; "
        f"<code>{html.escape(str(report.path))}</code></p>"
        + "".join(tables)
        + _section("Pictures", *figures)
        + f"<p class=\"meta\">written by <code>python -m pipeline report --html</code> "
          f"(gutenberg-lstm {html.escape(__version__)})</p></body></html>\n")


def write_html_report(report: CorpusReport, output: Path) -> None:
    page = render_html(report).encode("utf-8")
    try:
        write_atomically(Path(output), page)
    except OSError as exc:
        raise UsageError(f"--html {output}: cannot write it ({exc.strerror or exc})") from None
