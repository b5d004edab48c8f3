"""The dataset card of a published version: ``README.md`` in Hugging Face's format, written from the manifest.

The YAML front matter is what the Hub and ``datasets`` read: the languages, the licence, the size
bucket, the task, and ``configs`` naming the three Parquet files, so that
``datasets.load_dataset("corpora/SHELF/current")`` gives train, validation and test with nothing
else said (the text shards beside them are not read). The body says, from the manifest and the
version's books.csv and cleaning.jsonl, how the corpus was made: the selection and the command that
rebuilds it, what each step left out and why, what the cleaner removed, the languages, duplicates,
splits and sizes, how to cite Project Gutenberg and which version of the tool wrote it.

The card is written with the version's other files, listed in the manifest with its sha256, and
verified with them (``python -m pipeline verify``): a card edited afterwards is caught.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
from collections import Counter

from ..clean.result import RULES
from ..config import (
    DEFAULT_BASE_URL,
    DEFAULT_SPLIT_RATIOS,
    DEFAULT_SPLIT_SALT,
    SPLIT_NAMES,
    CorpusConfig,
    normalised_ratios,
)

CARD_NAME = "README.md"
HF_SPLITS = {"train": "train", "val": "validation", "test": "test"}
"""Our split names → the names ``datasets`` gives them (``validation`` is the Hub's word for val)."""
SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M")]
LICENSE_NOTE = ("The texts are in the public domain in the USA: they may be used freely there, and this corpus "
                "strips Project Gutenberg's header and footer, so it carries no Project Gutenberg trademark. "
                "Redistributing the texts under the Project Gutenberg name, or with its licence, is bound by "
                "the Project Gutenberg License and its trademark terms (gutenberg.org/policy/license.html). "
                "Outside the USA, check the copyright laws of your country before using or sharing a text.")
STEP_ORDER = ["metadata", "text only", "download", "clean", "binary filter", "language", "language filter",
              "profile", "length filter", "duplicates", "error", "other"]


def size_category(books: int) -> str:
    return next((name for limit, name in SIZE_CATEGORIES if books < limit), "n>10M")


def rebuild_command(manifest: dict) -> str:
    """The ``python -m pipeline build`` command that builds this corpus again, from the manifest's config.

    Options at their defaults are left out; the split shares and salt are the corpus's own, which a
    later build of the same folder keeps by itself.
    """
    config, corpus = manifest["config"], manifest["config"]["corpus"]
    defaults = CorpusConfig()
    args = ["python", "-m", "pipeline", "build"]
    if config.get("shelf"):
        args += ["--shelf", config["shelf"]]
    periods = set()
    for selector in config.get("selectors") or []:
        kind, value = selector["kind"], selector["value"]
        if kind == "language":  # every text in a language: --language (below) with --source catalog
            continue
        args += [f"--{kind}", str(value)]
        if kind == "top" and selector.get("period", 1) != 1:
            periods.add(selector["period"])
    for period in sorted(periods):
        args += ["--top-period", str(period)]
    if config.get("source", "shelf") != "shelf":
        args += ["--source", config["source"]]
    if config.get("base_url") and config["base_url"] != DEFAULT_BASE_URL:
        args += ["--base-url", config["base_url"]]
    if config.get("mirror"):
        args += ["--mirror", config["mirror"]]
    if config.get("name"):
        args += ["--name", config["name"]]
    if config.get("out") not in (None, "corpora"):
        args += ["--out", config["out"]]
    if corpus["languages"] != defaults.languages or any(s["kind"] == "language" for s in config.get("selectors", [])):
        args += ["--language", ",".join(corpus["languages"])]
    for key, option in (("min_language_share", "--min-language-share"), ("min_words", "--min-words"),
                        ("near_duplicate_threshold", "--near-duplicate-threshold"),
                        ("shard_size", "--shard-size"), ("keep_versions", "--keep-versions")):
        if corpus[key] != getattr(defaults, key):
            args += [option, f"{corpus[key]:g}" if isinstance(corpus[key], float) else str(corpus[key])]
    for key, option in (("passage_filter", "--passage-filter"), ("allow_empty_splits", "--allow-empty-splits")):
        if corpus.get(key):
            args.append(option)
    ratios = corpus.get("split_ratios") or DEFAULT_SPLIT_RATIOS
    if normalised_ratios(ratios) != normalised_ratios(DEFAULT_SPLIT_RATIOS):
        args += ["--split", "/".join(f"{100 * r:.10g}" for r in normalised_ratios(ratios))]
    if (corpus.get("split_salt") or DEFAULT_SPLIT_SALT) != DEFAULT_SPLIT_SALT:
        args += ["--split-salt", corpus["split_salt"]]
    if corpus["separator"] != defaults.separator:
        args += ["--separator", _escaped(corpus["separator"])]
    return shlex.join(args)


def _escaped(text: str) -> str:
    """The separator as ``--separator`` reads it back: backslash escapes for control characters, the rest as is."""
    named = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return "".join(named.get(c) or (c if c.isprintable() or ord(c) > 127 else f"\\x{ord(c):02x}") for c in text)


# -- what the version's own files say ------------------------------------------------------------------------

def read_books(books_csv: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(books_csv.decode("utf-8"))))


def cuts_by_rule(cleaning_jsonl: bytes, kept: set[int]) -> dict[str, tuple[int, int]]:
    """For the kept books: per rule, (cuts, books with at least one such cut)."""
    cuts, books = Counter(), Counter()
    for line in cleaning_jsonl.decode("utf-8").splitlines():
        record = json.loads(line)
        if record.get("id") not in kept:
            continue
        rules = [cut["rule"] for cut in record.get("cuts", [])]
        if record.get("passages_removed"):
            rules += ["passages"] * len(record["passages_removed"])
        cuts.update(rules)
        books.update(set(rules))
    return {rule: (cuts[rule], books[rule]) for rule in sorted(cuts, key=lambda r: (-cuts[r], r))}


# -- the card ---------------------------------------------------------------------------------------------------

def pretty_name(shelf: dict) -> str:
    return f"Project Gutenberg: {shelf.get('name') or shelf.get('slug') or 'corpus'}"


def front_matter(manifest: dict) -> str:
    """The card's YAML metadata (JSON-quoted scalars, which YAML reads as they are)."""
    shelf = manifest.get("shelf", {})
    kept = sum(manifest["splits"][s]["books"] for s in SPLIT_NAMES)
    q = lambda value: json.dumps(value, ensure_ascii=False)  # noqa: E731
    lines = ["---", f"pretty_name: {q(pretty_name(shelf))}"]
    lines += ["language:"] + [f"- {q(code)}" for code in manifest["config"]["corpus"]["languages"]]
    lines += ["license: other", f"license_name: {q('public-domain-usa-project-gutenberg')}",
              f"license_link: {q('https://www.gutenberg.org/policy/license.html')}",
              f"license_details: {q(LICENSE_NOTE)}",
              "size_categories:", f"- {q(size_category(kept))}",
              "task_categories:", "- text-generation",
              "task_ids:", "- language-modeling",
              "source_datasets:", "- original",
              "multilinguality:", "- monolingual" if len(manifest["config"]["corpus"]["languages"]) == 1
              else "- multilingual",
              "tags:", "- project-gutenberg", "- books", "- public-domain",
              "configs:", "- config_name: default", "  data_files:"]
    for split in SPLIT_NAMES:
        lines += [f"  - split: {HF_SPLITS[split]}", f"    path: {q(manifest['splits'][split]['parquet']['path'])}"]
    return "\n".join(lines + ["---", ""])


def _table(header: list[str], rows: list[list]) -> list[str]:
    def cell(value) -> str:
        text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
        return text.replace("|", "\\|")
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows] + [""]


def card_text(manifest: dict, books_csv: bytes, cleaning_jsonl: bytes) -> str:
    """The whole card: front matter, then the body, every figure taken from the version's own files."""
    shelf, config, counts = manifest.get("shelf", {}), manifest["config"], manifest.get("counts", {})
    corpus, splits, tool = config["corpus"], manifest["splits"], manifest.get("tool", {})
    books = read_books(books_csv)
    kept_ids = {int(r["id"]) for r in books if r["status"] == "kept"}
    selectors = ", ".join(f"`{label}`" for label in shelf.get("selectors", [])) or "?"
    languages = ", ".join(corpus["languages"])
    total = {key: sum(splits[s][key] for s in SPLIT_NAMES) for key in ("books", "words", "chars", "bytes")}
    where = f"{config.get('out') or 'corpora'}/{shelf.get('slug', 'SHELF')}/current"
    out = [front_matter(manifest), f"# {pretty_name(shelf)}", "",
           f"{total['books']:,} books from Project Gutenberg, selected by {selectors}, cleaned of what Project "
           f"Gutenberg and its volunteers added, kept when written in {languages}, without duplicate editions, "
           f"and split by book into train, validation and test. Version `{manifest['version']}`, built "
           f"{manifest.get('created', '?')} by {tool.get('name', 'gutenberg-lstm')} {tool.get('version', '?')}.",
           "", "```python", "from datasets import load_dataset", "",
           f"corpus = load_dataset({json.dumps(where)})  # the folder of this card: train, validation, test",
           "```", "",
           "Each row is one book: `id` (its Project Gutenberg ebook number), `title`, `author`, `language` "
           "(as detected), `chars`, `words`, `sha256` (of the text in UTF-8) and `text`. The same texts are in "
           f"`train/`, `val/` and `test/` as UTF-8 text shards, books joined by "
           f"`{json.dumps(manifest.get('separator', corpus['separator']))}`.", ""]

    out += ["## Sizes", ""]
    out += _table(["split", "file", "books", "words", "characters", "bytes (UTF-8)", "text shards"],
                  [[HF_SPLITS[s], f"`{splits[s]['parquet']['path']}`", splits[s]["books"], splits[s]["words"],
                    splits[s]["chars"], splits[s]["bytes"], len(splits[s]["shards"])] for s in SPLIT_NAMES] +
                  [["total", "", total["books"], total["words"], total["chars"], total["bytes"],
                    sum(len(splits[s]["shards"]) for s in SPLIT_NAMES)]])

    fetch = counts.get("fetch", {})
    listing = "the offline catalog (pg_catalog.csv)" if config.get("source") == "catalog" else "the shelf pages"
    texts = f"the mirror {config['mirror']}" if config.get("mirror") else "the same site"
    out += ["## Selection", "",
            f"Selected by {selectors}: books listed from {listing} of {config.get('base_url', '?')}, texts from "
            f"{texts}. Found: {counts.get('found', 0):,} books; downloaded {fetch.get('downloaded', 0):,}, not "
            f"modified since the last build {fetch.get('not_modified', 0):,}, skipped {fetch.get('skipped', 0):,}, "
            f"failed {fetch.get('failed', 0):,}. The command that builds it again (run again, it refreshes this "
            f"corpus: only what changed is downloaded, and no kept book changes split):", "",
            f"    {rebuild_command(manifest)}", ""]

    out += ["## What was left out, and why", ""]
    by_step = counts.get("dropped_by_step")
    if by_step is None:  # a manifest from before steps were recorded: reasons only
        by_step = {"other": counts.get("dropped", {})}
    rows = [[step, kind, n] for step in sorted(by_step, key=lambda s: (STEP_ORDER.index(s) if s in STEP_ORDER
                                                                         else len(STEP_ORDER), s))
            for kind, n in by_step[step].items()]
    left_out = sum(n for _, _, n in rows)
    out += _table(["step", "reason", "books"], rows + [["total", "", left_out]])
    out += ["Every book found is a row of `books.csv`: kept (with its split) or left out (with its reason).", ""]

    out += ["## Cleaning", "",
            f"Cleaner version {tool.get('cleaner_version', '?')}. Kept: the author's work as printed (title page, "
            "preface, contents, chapters, the author's notes, appendices, index). Removed from the kept books, "
            "each cut recorded in `cleaning.jsonl` with its rule and lines:", ""]
    rules = cuts_by_rule(cleaning_jsonl, kept_ids)
    described = {**RULES, "passages": "runs of long paragraphs in another language (the passage filter)"}
    out += _table(["rule", "what it removes", "cuts", "books"],
                  [[f"`{rule}`", described.get(rule, ""), n, b] for rule, (n, b) in rules.items()]) \
        if rules else ["Nothing was cut from the kept books.", ""]

    detected = Counter((r["language_detected"] or "not analysed", r["status"]) for r in books)
    names = sorted({lang for lang, _ in detected}, key=lambda lang: (-detected[(lang, "kept")], lang))
    out += ["## Languages", "",
            f"Wanted: {languages}. A book is kept when the wanted languages hold at least "
            f"{corpus['min_language_share']:g} of the votes of chunks sampled across it (langdetect, seeded); the "
            f"metadata's language only decides the chunks langdetect is unsure of. Passage filter (cuts runs of "
            f"long paragraphs in other languages from kept books): {'on' if corpus.get('passage_filter') else 'off'}.",
            ""]
    out += _table(["language detected", "kept", "left out"],
                  [[lang, detected[(lang, "kept")], detected[(lang, "dropped")]] for lang in names])

    dropped = counts.get("dropped", {})
    out += ["## Duplicates", "",
            f"Exact duplicates (the same text once case, spacing and Unicode form are normalised) and near-duplicate "
            f"editions (MinHash over word shingles, estimated Jaccard similarity at least "
            f"{corpus['near_duplicate_threshold']:g}) are left out, one copy kept (the one kept before, else the "
            f"lowest id): {dropped.get('duplicate', 0):,} duplicates and {dropped.get('near-duplicate', 0):,} "
            f"near-duplicate editions here. `books.csv` names the copy kept in `kept_id`.", ""]

    ratios = normalised_ratios(corpus.get("split_ratios") or DEFAULT_SPLIT_RATIOS)
    shares = ", ".join(f"{HF_SPLITS[s]} {r:.9g}" for s, r in zip(SPLIT_NAMES, ratios))
    out += ["## Splits", "",
            f"By book, never by passage: the sha256 of the salt and a book's split key (its own id, or for an "
            f"edition the id of the copy kept) falls into the shares {shares}; salt `{corpus.get('split_salt')}`. "
            f"Once given, a book's key never changes, so refreshes never move a book between splits, and two "
            f"editions of one work never sit in train and test.", ""]

    out += ["## License", "", LICENSE_NOTE, ""]
    out += ["## Citation", "",
            "Cite Project Gutenberg as the source of the texts, and name the corpus version:", "", "```bibtex",
            "@misc{project_gutenberg,", "  author       = {{Project Gutenberg}},",
            "  title        = {Project Gutenberg},",
            "  howpublished = {\\url{https://www.gutenberg.org}},",
            f"  note         = {{{pretty_name(shelf)}, corpus version {manifest['version']}, built with "
            f"{tool.get('name', 'gutenberg-lstm')} {tool.get('version', '?')}}}", "}", "```", ""]

    out += ["## How it was made", "",
            f"{tool.get('name', 'gutenberg-lstm')} {tool.get('version', '?')} (cleaner version "
            f"{tool.get('cleaner_version', '?')}, analysis version {tool.get('analysis_version', '?')}, manifest "
            f"schema {manifest.get('schema_version', '?')}). `manifest.json` holds the whole configuration, the "
            f"counts and every file's size and sha256, this card's included; check the folder with "
            f"`python -m pipeline verify` followed by its path.", ""]
    return "\n".join(out)
