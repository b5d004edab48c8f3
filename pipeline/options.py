"""The command line's shared options: which books, the corpus settings, the source and politeness.

Each group is added to a parser by one function and turned into its typed config by another, so
``build`` and ``shelves`` read the same options the same way.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

from .config import BASE_URL_ENV, DEFAULT_BASE_URL, DEFAULT_SPLIT_SALT, CorpusConfig, HttpConfig
from .errors import ConfigError
from .selection import Selector


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?[bB])?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; use bytes or a suffix: 512K, 64M, 1G")
    scale = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    return int(finite(match.group(1)) * scale)


def finite(text: str) -> float:
    """A number that is one: NaN passes every comparison (a NaN delay would be no delay) and inf is no time."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_seconds(text: str) -> float:
    try:
        return finite(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds; give one like 2 or 0.5") from None


def parse_share(text: str) -> float:
    try:
        value = finite(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share; give a number like 0.8 or 80%") from None
    return value


def parse_ratios(text: str) -> tuple[float, float, float]:
    parts = re.split(r"[/,:]", text)
    try:
        ratios = tuple(float(p) for p in parts)  # NaN and inf are refused with the other bad shares
    except ValueError:
        ratios = ()
    if len(ratios) != 3:
        raise argparse.ArgumentTypeError(f"{text!r} is not three shares for train/val/test; give one like 90/5/5")
    return ratios  # type: ignore[return-value]


def parse_separator(text: str) -> str:
    """Backslash escapes as in Python strings, so a shell user can write '\\n\\n'."""
    try:
        return text.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise argparse.ArgumentTypeError(f"{text!r} has a broken backslash escape") from None


def add_corpus_options(parser: argparse.ArgumentParser) -> None:
    corpus = parser.add_argument_group("corpus")
    defaults = CorpusConfig()
    corpus.add_argument("--language", action="append", metavar="CODE",
                        help="keep books in this language (langdetect code); repeat or comma-separate for several "
                             "(default: en)")
    corpus.add_argument("--min-language-share", type=parse_share, default=defaults.min_language_share, metavar="SHARE",
                        help="share of a book's sample chunks that must be in a wanted language (default: 0.8)")
    corpus.add_argument("--passage-filter", action="store_true",
                        help="also cut runs of long paragraphs in other languages from kept books (e.g. the French "
                             "half of a bilingual edition)")
    corpus.add_argument("--min-words", type=int, default=defaults.min_words, metavar="N",
                        help=f"drop books with fewer words after cleaning (default: {defaults.min_words})")
    corpus.add_argument("--near-duplicate-threshold", type=parse_share, default=defaults.near_duplicate_threshold,
                        metavar="JACCARD", help="similarity at which two books are editions of one work (default: 0.9)")
    corpus.add_argument("--split", dest="split_ratios", type=parse_ratios, metavar="TRAIN/VAL/TEST",
                        help="split shares by book, adding up to 100; fixed when a corpus is first built "
                             "(default: the corpus's own, 90/5/5 for a new corpus)")
    corpus.add_argument("--split-salt", metavar="TEXT",
                        help="salt of the split hash; fixed when a corpus is first built (default: the corpus's "
                             f"own, {DEFAULT_SPLIT_SALT!r} for a new corpus)")
    corpus.add_argument("--allow-empty-splits", action="store_true",
                        help="publish a corpus that leaves val or test without a book: a --split with a 0 share "
                             "(e.g. 100/0/0), or a selection of fewer than 3 books")
    corpus.add_argument("--reshuffle", action="store_true",
                        help="accept a --split or --split-salt other than the corpus's own: every book is placed "
                             "again and some move between train, val and test")
    corpus.add_argument("--shard-size", type=parse_size, default=defaults.shard_size, metavar="SIZE",
                        help="largest text shard (default: 64M)")
    corpus.add_argument("--separator", type=parse_separator, default=defaults.separator, metavar="TEXT",
                        help=r"written between books in text shards; backslash escapes work "
                             r"(default: '\n\n<|endoftext|>\n\n')")
    corpus.add_argument("--keep-versions", type=int, default=defaults.keep_versions, metavar="K",
                        help=f"published versions kept on disk; the one before current is always kept too "
                             f"(default: {defaults.keep_versions})")


def corpus_config(args: argparse.Namespace) -> CorpusConfig:
    languages = [code.strip() for value in (args.language or ["en"]) for code in value.split(",") if code.strip()]
    return CorpusConfig(languages=languages, min_language_share=args.min_language_share,
                        passage_filter=args.passage_filter, min_words=args.min_words,
                        near_duplicate_threshold=args.near_duplicate_threshold, split_ratios=args.split_ratios,
                        split_salt=args.split_salt, allow_empty_splits=args.allow_empty_splits,
                        reshuffle=args.reshuffle, shard_size=args.shard_size, separator=args.separator,
                        keep_versions=args.keep_versions)


def add_selector_options(parser: argparse.ArgumentParser) -> None:
    select = parser.add_argument_group(
        "which books (repeat and combine: the corpus holds the union, each book once)")
    select.add_argument("--shelf", action="append", metavar="SHELF",
                        help='a bookshelf: slug (science-fiction), name ("Science Fiction") or id (68)')
    select.add_argument("--author", action="append", metavar="NAME_OR_ID",
                        help='an author\'s books: "Wells, H. G." or the id of /ebooks/author/ID')
    select.add_argument("--top", action="append", metavar="N",
                        help="the N most downloaded books of the Top 100 page (1 to 100)")
    select.add_argument("--top-period", type=int, default=1, choices=(1, 7, 30), metavar="DAYS",
                        help="the Top 100 list --top reads: downloads yesterday (1), in 7 or in 30 days (default: 1)")
    select.add_argument("--ids", action="append", metavar="ID,ID,...", help="book ids, like 84,1342,2701")
    select.add_argument("--ids-file", action="append", metavar="FILE",
                        help="a file of book ids, one a line ('#' starts a comment)")
    select.add_argument("--subject", action="append", metavar="HEADING",
                        help='a catalog subject heading, like "Science fiction" (needs --source catalog)')
    select.add_argument("--name", metavar="NAME",
                        help="the corpus folder under --out; needed with more than one selector (default: the "
                             "shelf's slug, top-100, author-wells-h-g, ...). With --source catalog and no other "
                             "selector, --language CODE selects every text in that language")


def selectors_from_args(args: argparse.Namespace) -> tuple[list[Selector], str]:
    """The selectors given, in a fixed order; the first shelf goes to ``BuildConfig.shelf`` as before."""
    if args.top_period != 1 and not args.top:
        raise ConfigError(f"--top-period {args.top_period} needs --top N")
    shelves = list(args.shelf or [])
    selectors = [Selector("shelf", s) for s in shelves[1:]]
    selectors += [Selector("author", a) for a in args.author or []]
    selectors += [Selector("top", t, period=args.top_period) for t in args.top or []]
    selectors += [Selector("ids", i) for i in args.ids or []]
    selectors += [Selector("ids-file", f) for f in args.ids_file or []]
    selectors += [Selector("subject", s) for s in args.subject or []]
    if not shelves and not selectors and args.source == "catalog" and args.language:
        # every text in the wanted language(s): the language is both what is listed and what is kept
        codes = [code.strip() for value in args.language for code in value.split(",") if code.strip()]
        selectors.append(Selector("language", ",".join(codes)))
    return selectors, shelves[0] if shelves else ""


def add_site_options(parser: argparse.ArgumentParser) -> None:
    site = parser.add_argument_group("source and politeness")
    site.add_argument("--base-url", default=os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL, metavar="URL",
                      help=f"site with Gutenberg's URL layout (default: ${BASE_URL_ENV}, else {DEFAULT_BASE_URL})")
    site.add_argument("--out", type=Path, default=Path("corpora"), metavar="DIR",
                      help="corpora root; the download cache lives in DIR/.cache (default: corpora)")
    site.add_argument("--cache-dir", type=Path, metavar="DIR", help="download cache (default: OUT/.cache)")
    site.add_argument("--delay", type=parse_seconds, metavar="SECONDS",
                      help="minimum seconds between requests to one host (default: 2 for remote hosts, "
                           "0 for loopback and mirrors)")
    site.add_argument("--retries", type=int, default=HttpConfig.retries, metavar="N",
                      help=f"retries after errors, timeouts, 5xx and 429 (default: {HttpConfig.retries})")
    site.add_argument("--timeout", type=parse_seconds, default=HttpConfig.read_timeout, metavar="SECONDS",
                      help=f"read timeout of each request (default: {HttpConfig.read_timeout:g})")
    site.add_argument("--request-deadline", type=parse_seconds, default=HttpConfig.request_deadline, metavar="SECONDS",
                      help="most seconds one request may take in all, body included; a slower one fails "
                           f"(default: {HttpConfig.request_deadline:g})")
    site.add_argument("--max-file-size", type=parse_size, default=HttpConfig.max_file_size, metavar="SIZE",
                      help="refuse larger files (default: 64M)")
    site.add_argument("--user-agent", metavar="TEXT", help="replace the default User-Agent (name, version, URL)")
    site.add_argument("--ignore-robots", action="store_true", help="do not read robots.txt (for your own mirrors)")


def http_config(args: argparse.Namespace) -> HttpConfig:
    return HttpConfig(delay=args.delay, read_timeout=args.timeout, request_deadline=args.request_deadline,
                      retries=args.retries,
                      max_file_size=args.max_file_size, user_agent=args.user_agent,
                      respect_robots=not args.ignore_robots)
