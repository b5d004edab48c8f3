"""``python -m pipeline report``: what a published corpus holds, read from its manifest and books.csv."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..book import reason_kind
from ..config import SPLIT_NAMES
from ..corpus.versions import CURRENT, CorpusDir
from ..errors import UsageError


@dataclass
class CorpusReport:
    path: Path
    manifest: dict
    books: pd.DataFrame


def load_report(path: Path) -> CorpusReport:
    """Read a shelf's corpus folder (through ``current``) or one version folder."""
    path = Path(path)
    problem = CorpusDir(path).current_problem() if (path / CURRENT).is_symlink() else None
    if problem is not None:
        raise UsageError(f"{path / CURRENT} {problem}; run the build again to repair it, "
                         f"or give a version folder")
    version = path / CURRENT if (path / CURRENT).exists() else path
    if not (version / "manifest.json").is_file():
        raise UsageError(f"no published corpus at {path} (no manifest.json there or in {path / CURRENT}); "
                         f"build one with `python -m pipeline build --shelf SHELF`")
    try:
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
        books = pd.read_csv(version / "books.csv", dtype={"split": str, "reason": str, "language_detected": str,
                                                          "language_meta": str}, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the corpus at {version}: {exc}") from None
    splits = manifest.get("splits") if isinstance(manifest, dict) else None
    if not isinstance(splits, dict) or "version" not in manifest or any(
            not isinstance(splits.get(s), dict) or not {"books", "chars", "bytes", "shards"} <= set(splits[s])
            for s in SPLIT_NAMES) or not {"id", "status", "split", "reason", "words"} <= set(books.columns):
        raise UsageError(f"{version / 'manifest.json'} is not a corpus manifest of this tool "
                         f"(no version or train/val/test splits); give a folder written by `pipeline build`")
    return CorpusReport(version.resolve(), manifest, books)


def format_report(report: CorpusReport) -> str:
    manifest, books = report.manifest, report.books
    shelf = manifest.get("shelf", {})
    lines = [f"corpus {shelf.get('slug', '?')} ({shelf.get('name', '?')}), version {manifest['version']}, "
             f"built {manifest.get('created', '?')}",
             f"source: {manifest.get('source', {}).get('base_url', '?')}; {report.path}", ""]
    lines.append(f"{'split':<6} {'books':>6} {'words':>12} {'chars':>14} {'MB':>9} {'shards':>6}")
    totals = [0, 0, 0, 0, 0]
    for split in SPLIT_NAMES:
        info = manifest["splits"][split]
        row = [info["books"], info.get("words", 0), info["chars"], info["bytes"], len(info["shards"])]
        totals = [t + r for t, r in zip(totals, row)]
        lines.append(f"{split:<6} {row[0]:>6,} {row[1]:>12,} {row[2]:>14,} {row[3] / 1e6:>9.1f} {row[4]:>6}")
    lines.append(f"{'total':<6} {totals[0]:>6,} {totals[1]:>12,} {totals[2]:>14,} {totals[3] / 1e6:>9.1f} "
                 f"{totals[4]:>6}")

    dropped = books[books["status"] == "dropped"]
    lines += ["", f"dropped: {len(dropped)} of {len(books)} books"]
    for kind, n in dropped["reason"].map(reason_kind).value_counts().items():
        lines.append(f"  {n:>5}  {kind}")

    lines += ["", "languages detected (kept / dropped):"]
    detected = books.assign(language=books["language_detected"].replace("", "not analysed"))
    table = detected.groupby(["language", "status"]).size().unstack(fill_value=0)
    for language, row in table.sort_values(by=list(table.columns), ascending=False).iterrows():
        lines.append(f"  {language:<13} {int(row.get('kept', 0)):>5} / {int(row.get('dropped', 0))}")
    disagree = books[books["language_disagrees"].astype(str) == "1"]
    if len(disagree):
        lines.append("  differs from the metadata: " + ", ".join(
            f"#{r.id} ({r.language_meta} → {r.language_detected})" for r in disagree.itertuples()))

    kept = books[books["status"] == "kept"]
    lines += ["", "book length in words (min / median / max):"]
    for split in SPLIT_NAMES:
        words = pd.to_numeric(kept.loc[kept["split"] == split, "words"])
        if len(words):
            lines.append(f"  {split:<6} {int(words.min()):>10,} {int(words.median()):>10,} {int(words.max()):>10,}")
        else:
            lines.append(f"  {split:<6} {'no books':>10}")
    return "\n".join(lines)


def plot_lengths(report: CorpusReport, output: Path) -> None:
    """A histogram of book lengths (words, log scale) per split, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed: cron, ssh
    import matplotlib.pyplot as plt
    import numpy as np

    kept = report.books[report.books["status"] == "kept"]
    lengths = {split: pd.to_numeric(kept.loc[kept["split"] == split, "words"]).to_numpy() for split in SPLIT_NAMES}
    every = np.concatenate([v for v in lengths.values() if len(v)] or [np.array([1])])
    bins = np.logspace(np.log10(max(1, every.min())), np.log10(max(2, every.max())), 30)
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for split, values in lengths.items():
        if len(values):
            axis.hist(values, bins=bins, alpha=0.6, label=f"{split} ({len(values)} books)")
    axis.set_xscale("log")
    axis.set_xlabel("words per book")
    axis.set_ylabel("books")
    axis.set_title(f"{report.manifest.get('shelf', {}).get('name', '')} — {report.manifest['version']}")
    axis.legend()
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
