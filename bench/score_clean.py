"""Score Gutenberg strippers against the hand-made labels: recall of the body, boilerplate leaked, speed.

    python bench/score_clean.py [--standin ../shared/gutenberg] [--per-file] [--leaks] [--only NAME]
                                [--strippers pipeline.clean,...] [--repeat 1] [--dammit FOLDER]
    python bench/score_clean.py --rules        in how many real files each rule of the cleaner fires
    python bench/score_clean.py --unlabelled   kept lines with marks of boilerplate in every real file

Every labelled file is scored: tests/cleaning_labels.json (paths under the stand-in) and
tests/pool_labels.json (file names under the stand-in's pool/). A label gives the body as lines
of the decoded text (``body``: first and last line, 1-based, counted as ``text.split("\\n")`` on
``pipeline.clean.decode.decode(raw).text``, the numbering ``python -m pipeline clean --explain`` uses), the
lines inside it that are not the author's (``notes``), and text inside body lines that is not
(``cut_text``, e.g. a "The Project Gutenberg Etext of" prefix on the title line).

For each stripper and file:

- recall: share of the body's word 5-grams (counted with multiplicity) that the output keeps;
- leaked lines: a line outside the body (header, footer, credits, notes) leaks when one of its word
  3-grams that never occurs in the body is in the output;
- clean: nothing leaked and at most 0.1% of the body's 5-grams lost.

Words are ``\\w+`` runs, case-folded, so re-wrapping and punctuation do not count. Every stripper
is fed the same decoded text (the pipeline's own decoder), so this measures stripping, not
decoding. Speed is decode + strip on one core (CPU time, so a busy machine does not count) over
the same bytes in memory, best of --repeat, against decode alone. Other strippers run where
installed, else are listed with the reason:
c-w/gutenberg's ``strip_headers`` (packages ``gutenberg``, which installs with ``pip install
--no-deps gutenberg`` where its bsddb3 dependency does not build, and ``gutenbergpy``),
``gutenberg_cleaner.simple_cleaner``, gutenberg-dammit's ``TextCleaner`` (not on the package index:
clone aparrish/gutenberg-dammit and pass ``--dammit FOLDER``), and Gutenberg's own ebookmaker rules
(``ebookmaker/parsers/boilerplate.py``: ``strip_headers_from_txt``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.clean.cleaner import clean  # noqa: E402
from pipeline.clean.decode import decode  # noqa: E402

WORD_RE = re.compile(r"\w+")
MAX_LOST = 0.001
"""Share of the body's 5-grams a file may lose and still count as clean."""


@dataclass
class Labelled:
    name: str
    raw: bytes
    body: str
    boilerplate: list[str]
    """Lines (and cut_text pieces) that are not the author's."""
    body5: Counter = field(default_factory=Counter)
    body3: set = field(default_factory=set)
    foreign: list[tuple[str, set]] = field(default_factory=list)
    """Each boilerplate line with its word 3-grams that never occur in the body (lines without any are left out)."""

    def __post_init__(self):
        body_words = words(self.body)
        self.body5 = Counter(grams(body_words, 5))
        self.body3 = set(grams(body_words, 3))
        for line in self.boilerplate:
            own = set(grams(words(line), 3)) - self.body3
            if own:
                self.foreign.append((line.strip(), own))


@dataclass
class Score:
    recall_kept: int = 0
    recall_total: int = 0
    leaked: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    """Body lines none of whose word 3-grams survive (for --leaks; recall is what is scored)."""

    @property
    def recall(self) -> float:
        return self.recall_kept / self.recall_total if self.recall_total else 1.0

    @property
    def clean(self) -> bool:
        return not self.leaked and self.recall_kept >= (1 - MAX_LOST) * self.recall_total


def words(text: str) -> list[str]:
    return WORD_RE.findall(text.casefold())


def grams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(tokens[i:] for i in range(n))))


def load_labels(standin: Path) -> list[tuple[dict, Path]]:
    labelled = [(label, standin / label["file"])
                for label in json.loads((REPO / "tests" / "cleaning_labels.json").read_text(encoding="utf-8"))]
    pool = REPO / "tests" / "pool_labels.json"
    if pool.is_file():
        labelled += [(label, standin / label.get("folder", "pool") / label["file"])
                     for label in json.loads(pool.read_text(encoding="utf-8"))]
    return labelled


def reference(label: dict, path: Path) -> Labelled:
    raw = path.read_bytes()
    text = decode(raw).text
    lines = text.split("\n")
    first, last = label["body"]
    inside = set(range(first, last + 1))
    for start, end in label.get("notes", []):
        inside -= set(range(start, end + 1))
    body_lines = [lines[n - 1] for n in range(first, last + 1) if n in inside]
    body = "\n".join(body_lines)
    for piece in label.get("cut_text", []):
        body = body.replace(piece, " ")
    boilerplate = [line for n, line in enumerate(lines, 1) if n not in inside] + label.get("cut_text", [])
    name = label["file"] if "/" in label["file"] else f"{label.get('folder', 'pool')}/{label['file']}"
    return Labelled(name, raw, body, boilerplate)


def score(item: Labelled, output: str, *, explain: bool = False) -> Score:
    out_words = words(output)
    out5 = Counter(grams(out_words, 5))
    result = Score(sum(min(count, out5[g]) for g, count in item.body5.items()), sum(item.body5.values()))
    out3 = set(grams(out_words, 3))
    result.leaked = [line for line, own in item.foreign if not own.isdisjoint(out3)]
    if explain and result.recall_kept < result.recall_total:
        for line in item.body.split("\n"):
            own = set(grams(words(line), 3))
            if own and own.isdisjoint(out3):
                result.lost.append(line.strip())
    return result


def strippers() -> tuple[dict[str, Callable[[bytes], str]], dict[str, str]]:
    """Each stripper takes the raw bytes and returns the text it keeps; and why others are missing."""
    found: dict[str, Callable[[bytes], str]] = {"pipeline.clean": lambda raw: clean(raw).text}
    missing: dict[str, str] = {}
    try:
        from gutenberg.cleanup import strip_headers as cw_strip
        found["gutenberg.strip_headers"] = lambda raw: cw_strip(decode(raw).text)
    except Exception as error:  # noqa: BLE001 - any import failure means "not installable here"
        missing["gutenberg.strip_headers"] = f"{type(error).__name__}: {error}"
    try:
        from gutenbergpy.textget import strip_headers as gpy_strip
        found["gutenbergpy.strip_headers"] = (
            lambda raw: gpy_strip(decode(raw).text.encode("utf-8")).decode("utf-8", "replace"))
    except Exception as error:  # noqa: BLE001
        missing["gutenbergpy.strip_headers"] = f"{type(error).__name__}: {error}"
    try:
        from gutenberg_cleaner import simple_cleaner
        found["gutenberg_cleaner.simple"] = lambda raw: simple_cleaner(decode(raw).text)
    except Exception as error:  # noqa: BLE001
        missing["gutenberg_cleaner.simple"] = f"{type(error).__name__}: {error}"
    try:
        from gutenbergdammit.textcleaner import TextCleaner
        dammit = TextCleaner()
        found["gutenberg-dammit.TextCleaner"] = lambda raw: dammit.clean_text(decode(raw).text)
    except Exception as error:  # noqa: BLE001
        missing["gutenberg-dammit.TextCleaner"] = (f"{type(error).__name__}: {error} (clone aparrish/gutenberg-dammit "
                                                   "and pass --dammit FOLDER)")
    try:
        ebookmaker_strip = _ebookmaker_stripper()
        found["ebookmaker.strip_headers_from_txt"] = lambda raw: ebookmaker_strip(decode(raw).text)[0]
    except Exception as error:  # noqa: BLE001
        missing["ebookmaker.strip_headers_from_txt"] = f"{type(error).__name__}: {error}"
    return found, missing


def _ebookmaker_stripper() -> Callable[[str], tuple[str, str, str]]:
    """Gutenberg's own rules: ebookmaker's ``parsers/boilerplate.py``, loaded by path.

    ``ebookmaker.parsers``' ``__init__`` imports cchardet, a C extension that often fails to build;
    the boilerplate module itself needs only soupsieve and libgutenberg (``pip install --no-deps
    ebookmaker libgutenberg`` plus ``pycountry``).
    """
    import importlib.util
    import logging

    import ebookmaker

    path = Path(ebookmaker.__file__).parent / "parsers" / "boilerplate.py"
    spec = importlib.util.spec_from_file_location("ebookmaker_boilerplate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    logging.disable(logging.INFO)  # it logs "No PG header found" at info level for every such file
    return module.strip_headers_from_txt


def summary(scores: list[Score]) -> str:
    """Clean files, recall and leaked lines, as table columns."""
    kept, total = sum(s.recall_kept for s in scores), sum(s.recall_total for s in scores)
    clean_files = sum(s.clean for s in scores)
    return (f"{f'{clean_files}/{len(scores)}':>12} {kept / total if total else 1.0:8.4f} "
            f"{sum(len(s.leaked) for s in scores):13}")


def run_timed(repeat: int, fn: Callable[[bytes], object], raws: list[bytes]) -> tuple[list, float]:
    """The outputs of the first run, and the best CPU time of ``repeat`` runs over all texts.

    CPU time of this process, not the wall clock: on a busy machine the wall clock also counts the
    time spent waiting for a core, and the figure wanted is MB/s per core.
    """
    outputs, best = [], float("inf")
    for attempt in range(repeat):
        start = time.process_time()
        results = [fn(raw) for raw in raws]
        best = min(best, time.process_time() - start)
        outputs = outputs or results
    return outputs, best


def real_files(standin: Path) -> list[Path]:
    """Every real Gutenberg text under the stand-in: the site's books, the old-format samples, pool and pool2."""
    return (sorted(standin.glob("site/cache/epub/*/*.txt")) + sorted(standin.glob("samples/old-formats/*.txt"))
            + sorted(standin.glob("pool/*.txt")) + sorted(standin.glob("pool2/*.txt")))


def rule_generality(standin: Path) -> None:
    """For every rule, the number of distinct real files it fires in, fewest first, with the files where few."""
    from pipeline.clean.result import RULES

    files = real_files(standin)
    fired: dict[str, set[str]] = {}
    for path in files:
        for rule in clean(path.read_bytes()).fired:
            fired.setdefault(rule, set()).add(str(path.relative_to(standin)))
    print(f"{len(files)} real files under {standin}\n")
    print(f"{'rule':42} {'files':>6}  where (when fewer than 4)")
    for rule, where in sorted(fired.items(), key=lambda item: (len(item[1]), item[0])):
        shown = ", ".join(sorted(where)) if len(where) < 4 else ""
        print(f"{rule:42} {len(where):6}  {shown}")
    bands = Counter("1" if len(w) == 1 else "2-3" if len(w) < 4 else "4-9" if len(w) < 10 else "10+"
                    for w in fired.values())
    print(f"\n{len(fired)} rules fired; in 1 file: {bands['1']}, 2-3 files: {bands['2-3']}, "
          f"4-9 files: {bands['4-9']}, 10 or more: {bands['10+']}")
    families = {rule.split("/", 1)[0] for rule in fired}
    unknown = families - set(RULES)
    if unknown:
        print(f"warning: rule families missing from pipeline.clean.result.RULES: {', '.join(sorted(unknown))}")


ALLOWLIST = REPO / "tests" / "leak_allowlist.json"


def unlabelled_leaks(standin: Path) -> None:
    """Kept lines with a mark of boilerplate in every real file; those no allow-list entry explains first."""
    from pipeline.clean.leaks import not_allowed, suspect_lines

    allowlist = json.loads(ALLOWLIST.read_text(encoding="utf-8")) if ALLOWLIST.is_file() else []
    files = real_files(standin)
    total, left = 0, []
    for path in files:
        name = str(path.relative_to(standin))
        suspects = suspect_lines(clean(path.read_bytes()).text)
        total += len(suspects)
        left += [(name, suspect) for suspect in not_allowed(name, suspects, allowlist)]
    for name, suspect in left:
        print(f"{name:38} {suspect.line_number:6} {suspect.mark:12} {suspect.line[:90]}")
    allowed_files = Counter(entry["file"] for entry in allowlist)
    print(f"\n{len(files)} real files: {total} kept lines carry a mark of boilerplate; {total - len(left)} are "
          f"allowed ({len(allowlist)} entries over {len(allowed_files)} files in {ALLOWLIST.relative_to(REPO)}, "
          f"each with the reason the lines are the author's), {len(left)} are not (listed above)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--standin", type=Path, default=REPO.parent / "shared" / "gutenberg")
    parser.add_argument("--per-file", action="store_true", help="print one line per file and stripper")
    parser.add_argument("--leaks", action="store_true",
                        help="print the leaked lines of pipeline.clean, and body lines it lost")
    parser.add_argument("--only", help="score only label files whose name contains this")
    parser.add_argument("--repeat", type=int, default=1, help="timing runs per stripper (best is kept)")
    parser.add_argument("--strippers", help="comma-separated names to run (default: every one installed)")
    parser.add_argument("--dammit", type=Path, help="folder holding gutenberg-dammit's gutenbergdammit/ package")
    parser.add_argument("--rules", action="store_true", help="print in how many real files each rule fires, and stop")
    parser.add_argument("--unlabelled", action="store_true",
                        help="list kept lines with marks of boilerplate in every real file, and stop")
    args = parser.parse_args()
    if not args.standin.is_dir():
        sys.exit(f"error: {args.standin} is not a folder; pass --standin DIR (the stand-in with pool/)")
    if args.dammit:
        sys.path.insert(0, str(args.dammit))
    if args.rules:
        return rule_generality(args.standin)
    if args.unlabelled:
        return unlabelled_leaks(args.standin)
    labels = [(label, path) for label, path in load_labels(args.standin)
              if not args.only or args.only in str(path)]
    absent = [str(path) for _, path in labels if not path.is_file()]
    if absent:
        sys.exit(f"error: {len(absent)} labelled files are missing, e.g. {absent[0]}; pass --standin DIR")
    if not labels:
        sys.exit("error: no labelled file matches --only")
    items = [reference(label, path) for label, path in labels]
    raws = [item.raw for item in items]
    megabytes = sum(map(len, raws)) / 1e6
    found, missing = strippers()
    if args.strippers:
        wanted = args.strippers.split(",")
        unknown = [name for name in wanted if name not in found and name not in missing]
        if unknown:
            sys.exit(f"error: unknown stripper {unknown[0]!r}; choose from {', '.join([*found, *missing])}")
        found = {name: strip for name, strip in found.items() if name in wanted}
        missing = {name: reason for name, reason in missing.items() if name in wanted}
    print(f"{len(items)} labelled files, {megabytes:.1f} MB\n")
    _, decode_s = run_timed(args.repeat, decode, raws)
    rows = []
    for name, strip in found.items():
        # Decode alone is timed again next to each stripper, so the ratio holds on a machine whose load drifts.
        _, nearby_decode_s = run_timed(args.repeat, decode, raws)
        outputs, seconds = run_timed(args.repeat, strip, raws)
        explain = args.leaks and name == "pipeline.clean"
        scores = [score(item, output, explain=explain) for item, output in zip(items, outputs)]
        rows.append((name, scores, seconds, nearby_decode_s))
        if args.per_file:
            for item, s in zip(items, scores):
                mark = "clean" if s.clean else "DIRTY"
                print(f"  {name:34} {item.name:40} {mark:5} recall {s.recall:.4f}  leaked {len(s.leaked):4}")
        if explain:
            for item, s in zip(items, scores):
                for line in s.leaked:
                    print(f"  leak  {item.name:40} {line[:90]}")
                for line in s.lost:
                    print(f"  LOST  {item.name:40} {line[:90]}")
    if args.per_file or args.leaks:
        print()
    header = (f"{'stripper':34} {'clean files':>12} {'recall':>8} {'leaked lines':>13} {'MB/s/core':>10} "
              f"{'vs decode':>10}")
    print(header)
    print(f"{'decode alone (baseline)':34} {'':>12} {'':>8} {'':>13} {megabytes / decode_s:10.1f} {1:9.2f}x")
    folders = [item.name.split("/", 1)[0] for item in items]
    for name, scores, seconds, nearby_decode_s in rows:
        print(f"{name:34} {summary(scores)} {megabytes / seconds:10.1f} {nearby_decode_s / seconds:9.2f}x")
        for folder in dict.fromkeys(folders):
            chosen = [s for s, where in zip(scores, folders) if where == folder]
            if len(chosen) < len(scores):
                print(f"{'  ' + folder + '/ labels':34} {summary(chosen)}")
    for name, reason in missing.items():
        print(f"{name:34} not run: {reason}")
    print(f"\nclean: no leaked line and at most {MAX_LOST:.1%} of the body's word 5-grams lost; "
          f"speed: CPU seconds of decode + strip on one core, best of {args.repeat}; "
          f"'vs decode' divides by decode alone timed just before each stripper")


if __name__ == "__main__":
    main()
