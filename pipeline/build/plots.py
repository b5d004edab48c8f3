"""The pictures of a corpus report, drawn with matplotlib (Agg: no display needed), each returned as PNG bytes.

Matplotlib is imported here, and this module only when a picture is asked for, so ``build``,
``verify`` and a plain ``report`` never pay for it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..config import SPLIT_NAMES
from ..errors import UsageError
from .report import CorpusReport, author_rows, cuts_by_rule, drops_by_step

TOP_AUTHORS = 20
COLOURS = {"train": "#4c72b0", "val": "#dd8452", "test": "#55a868"}


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display needed: cron, ssh
    import matplotlib.pyplot as plt

    return plt


def png(figure) -> bytes:
    plt = pyplot()
    out = io.BytesIO()
    try:
        figure.tight_layout()
        figure.savefig(out, format="png", dpi=100)
    finally:
        plt.close(figure)
    return out.getvalue()


def _title(report: CorpusReport) -> str:
    return f"{report.manifest.get('shelf', {}).get('name', '')} — {report.manifest['version']}"


def draw_lengths(axis, report: CorpusReport) -> None:
    """Histogram of book lengths in words (log scale), one colour per split."""
    import numpy as np

    kept = report.books[report.books["status"] == "kept"]
    lengths = {split: pd.to_numeric(kept.loc[kept["split"] == split, "words"]).to_numpy() for split in SPLIT_NAMES}
    every = np.concatenate([v for v in lengths.values() if len(v)] or [np.array([1])])
    bins = np.logspace(np.log10(max(1, every.min())), np.log10(max(2, every.max())), 30)
    for split, values in lengths.items():
        if len(values):
            axis.hist(values, bins=bins, alpha=0.6, color=COLOURS[split], label=f"{split} ({len(values)} books)")
    axis.set_xscale("log")
    axis.set_xlabel("words per book")
    axis.set_ylabel("books")
    axis.set_title(_title(report))
    axis.legend()


def plot_lengths(report: CorpusReport, output: Path) -> None:
    """``report --plot FILE``: the book-length histogram, saved as PNG (or SVG, PDF: the suffix says)."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(8, 4.5))
    draw_lengths(axis, report)
    figure.tight_layout()
    try:
        figure.savefig(output, dpi=100)
    except OSError as exc:
        raise UsageError(f"--plot {output}: cannot write it ({exc.strerror or exc})") from None
    except ValueError:  # matplotlib does not know the suffix
        raise UsageError(f"--plot {output}: cannot draw a {output.suffix or 'suffix-less'} file; "
                         f"name it .png (or .svg, .pdf)") from None
    finally:
        plt.close(figure)


def lengths_png(report: CorpusReport) -> bytes:
    figure, axis = pyplot().subplots(figsize=(8, 4.5))
    draw_lengths(axis, report)
    return png(figure)


def languages_png(report: CorpusReport) -> bytes:
    """Share of each detected language among the books analysed (before the filter) and the books kept (after)."""
    books = report.books
    analysed = books[books["language_detected"] != ""]
    before = analysed["language_detected"].value_counts(normalize=True)
    after = analysed.loc[analysed["status"] == "kept", "language_detected"].value_counts(normalize=True)
    languages = list(before.index)
    figure, axis = pyplot().subplots(figsize=(8, 4))
    positions = range(len(languages))
    axis.bar([p - 0.2 for p in positions], [100 * before.get(lang, 0) for lang in languages], width=0.4,
             label=f"before the filter ({len(analysed)} books analysed)", color="#8c8c8c")
    axis.bar([p + 0.2 for p in positions], [100 * after.get(lang, 0) for lang in languages], width=0.4,
             label=f"after ({int((analysed['status'] == 'kept').sum())} books kept)", color="#4c72b0")
    axis.set_xticks(list(positions), languages or ["none"])
    axis.set_ylabel("% of books")
    axis.set_ylim(0, 105)
    axis.set_title("languages detected, before and after the language filter")
    axis.legend()
    return png(figure)


def drops_png(report: CorpusReport) -> bytes:
    """Books left out, one bar per step, stacked by the kind of reason."""
    table = drops_by_step(report)
    reasons = sorted({reason for kinds in table.values() for reason in kinds})
    steps = list(table)
    figure, axis = pyplot().subplots(figsize=(8, 0.6 * max(3, len(steps)) + 1.2))
    left = [0] * len(steps)
    for reason in reasons:
        counts = [table[step].get(reason, 0) for step in steps]
        axis.barh(steps, counts, left=left, label=reason)
        left = [a + b for a, b in zip(left, counts)]
    axis.invert_yaxis()
    axis.set_xlabel("books left out")
    axis.set_title(f"left out by step and reason ({sum(left)} of {len(report.books)} books)")
    if reasons:
        axis.legend(fontsize="small")
    else:
        axis.text(0.5, 0.5, "no book was left out", ha="center", va="center", transform=axis.transAxes)
    return png(figure)


def cleaning_png(report: CorpusReport) -> bytes:
    """What the cleaner cut from the kept books: cuts and input lines per rule."""
    rules = cuts_by_rule(report)
    names = list(rules)
    figure, (cuts, lines) = pyplot().subplots(1, 2, figsize=(9, 0.45 * max(3, len(names)) + 1.4), sharey=True)
    cuts.barh(names, [rules[n]["cuts"] for n in names], color="#c44e52")
    lines.barh(names, [rules[n]["lines"] for n in names], color="#8172b2")
    cuts.invert_yaxis()
    cuts.set_xlabel("cuts")
    lines.set_xlabel("input lines removed")
    figure.suptitle("cleaning cuts in the kept books, by kind")
    if not names:
        cuts.text(0.5, 0.5, "nothing was cut", ha="center", va="center", transform=cuts.transAxes)
    return png(figure)


def authors_png(report: CorpusReport) -> bytes:
    kept = report.books[report.books["status"] == "kept"]
    top = author_rows(report, TOP_AUTHORS)
    figure, axis = pyplot().subplots(figsize=(8, 0.32 * max(4, len(top)) + 1.2))
    axis.barh([name for name, _ in top], [n for _, n in top], color="#4c72b0")
    axis.invert_yaxis()
    axis.set_xlabel("books kept")
    axis.set_title(f"books by author (top {min(TOP_AUTHORS, len(top))} of "
                   f"{kept['author'].nunique()} authors)")
    return png(figure)


PLOTS = [("lengths", "Book lengths per split", lengths_png),
         ("languages", "Languages before and after the filter", languages_png),
         ("drops", "Books left out, by step and reason", drops_png),
         ("cleaning", "Cleaning cuts by kind", cleaning_png),
         ("authors", "Books by author", authors_png)]
"""(name, heading, function) of each picture of the HTML report, in its order."""
