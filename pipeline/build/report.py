"""``python -m pipeline report``: what a published corpus holds, read from its manifest and books.csv."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..book import reason_kind
from ..config import SPLIT_NAMES
from ..corpus.card import STEP_ORDER
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


# -- the same facts as tables, for the HTML report ---------------------------------------------------------

def split_rows(report: CorpusReport) -> list[list]:
    """[split, books, words, chars, bytes, shards] per split, then the totals."""
    rows = []
    for split in SPLIT_NAMES:
        info = report.manifest["splits"][split]
        rows.append([split, info["books"], info.get("words", 0), info["chars"], info["bytes"], len(info["shards"])])
    return rows + [["total", *[sum(row[i] for row in rows) for i in range(1, 6)]]]


def drops_by_step(report: CorpusReport) -> dict[str, dict[str, int]]:
    """Books left out per step and kind of reason: the manifest's record, or (for a corpus built before it was
    recorded) books.csv's reasons under one step, ``other``."""
    recorded = report.manifest.get("counts", {}).get("dropped_by_step")
    if isinstance(recorded, dict):
        order = sorted(recorded, key=lambda s: (STEP_ORDER.index(s) if s in STEP_ORDER else len(STEP_ORDER), s))
        return {str(step): {str(k): int(n) for k, n in recorded[step].items()} for step in order}
    dropped = report.books[report.books["status"] == "dropped"]
    kinds = Counter(dropped["reason"].map(reason_kind))
    return {"other": dict(sorted(kinds.items()))} if kinds else {}


def language_rows(report: CorpusReport) -> list[list]:
    """[language detected, books kept, books dropped], most kept first."""
    books = report.books
    counts = Counter(zip(books["language_detected"].replace("", "not analysed"), books["status"]))
    languages = sorted({lang for lang, _ in counts}, key=lambda lang: (-counts[(lang, "kept")], lang))
    return [[lang, counts[(lang, "kept")], counts[(lang, "dropped")]] for lang in languages]


def length_rows(report: CorpusReport) -> list[list]:
    """[split, min, median, max] of book lengths in words; None for an empty split."""
    kept = report.books[report.books["status"] == "kept"]
    rows = []
    for split in SPLIT_NAMES:
        words = pd.to_numeric(kept.loc[kept["split"] == split, "words"])
        rows.append([split, *((int(words.min()), int(words.median()), int(words.max())) if len(words)
                              else (None, None, None))])
    return rows


def cuts_by_rule(report: CorpusReport) -> dict[str, dict[str, int]]:
    """From cleaning.jsonl, for the kept books: per rule, its cuts, the books it cut from and the input lines removed
    (the passage filter's cuts count characters, not lines: ``lines`` is 0 for them)."""
    kept = set(report.books.loc[report.books["status"] == "kept", "id"].astype(int))
    rules: dict[str, Counter] = {}
    try:
        lines = (report.path / "cleaning.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {report.path / 'cleaning.jsonl'}: {exc.strerror or exc}") from None
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            raise UsageError(f"{report.path / 'cleaning.jsonl'} holds a line that is not JSON; check the "
                             f"version with `python -m pipeline verify {report.path}`") from None
        if record.get("id") not in kept:
            continue
        seen = set()
        for cut in record.get("cuts", []):
            counter = rules.setdefault(cut["rule"], Counter())
            counter["cuts"] += 1
            counter["lines"] += cut["last_line"] - cut["first_line"] + 1
            seen.add(cut["rule"])
        if record.get("passages_removed"):
            rules.setdefault("passages", Counter())["cuts"] += len(record["passages_removed"])
            seen.add("passages")
        for rule in seen:
            rules[rule]["books"] += 1
    order = sorted(rules, key=lambda rule: (-rules[rule]["cuts"], rule))
    return {rule: {"cuts": rules[rule]["cuts"], "books": rules[rule]["books"], "lines": rules[rule]["lines"]}
            for rule in order}


def author_rows(report: CorpusReport, top: int = 20) -> list[list]:
    kept = report.books[report.books["status"] == "kept"]
    return [[name, n] for name, n in Counter(kept["author"].replace("", "unknown")).most_common(top)]
