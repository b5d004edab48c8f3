"""Command line of the pipeline. It only parses and reports; the library does the work."""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
from collections import Counter
from pathlib import Path

from tqdm.contrib.logging import logging_redirect_tqdm

from . import __version__
from .book import DOWNLOADED, DROPPED, FAILED, NOT_MODIFIED, SKIPPED, reason_kind
from .build import Build, BuildResult, NothingKeptError, list_shelves, open_fetcher
from .clean import CleanInputError, CleanOptions, clean, explain, read_input
from .config import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_SPLIT_SALT,
    BuildConfig,
    CorpusConfig,
    HttpConfig,
    check_directory,
    check_url,
)
from .decode import decode
from .errors import ConfigError, PipelineError
from .files import write_atomically
from .report import format_report, load_report, plot_lengths
from .shelves import search_shelves
from .verify import resolve_version, verify_version

EXIT_CODES = """exit codes (for cron):
  0   ok: a new version was published, or nothing had changed
  1   some books failed (the corpus was still published; a failed refresh keeps the last good copy),
      or no book was kept (nothing was published)
  2   usage or config error; nothing was done
  3   the site, catalog or mirror could not be used; nothing was done
  75  another build of this corpus is running; nothing was done (try again later)
  130 interrupted; rerun the same command to carry on"""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line that says what to do, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?[bB])?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; use bytes or a suffix: 512K, 64M, 1G")
    scale = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    return int(float(match.group(1)) * scale)


def parse_share(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share; give a number like 0.8 or 80%") from None
    return value


def parse_ratios(text: str) -> tuple[float, float, float]:
    parts = re.split(r"[/,:]", text)
    try:
        ratios = tuple(float(p) for p in parts)
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
                        help="accept a --split that leaves val or test at 0 (e.g. 100/0/0)")
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


def add_site_options(parser: argparse.ArgumentParser) -> None:
    site = parser.add_argument_group("source and politeness")
    site.add_argument("--base-url", default=os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL, metavar="URL",
                      help=f"site with Gutenberg's URL layout (default: ${BASE_URL_ENV}, else {DEFAULT_BASE_URL})")
    site.add_argument("--out", type=Path, default=Path("corpora"), metavar="DIR",
                      help="corpora root; the download cache lives in DIR/.cache (default: corpora)")
    site.add_argument("--cache-dir", type=Path, metavar="DIR", help="download cache (default: OUT/.cache)")
    site.add_argument("--delay", type=float, metavar="SECONDS",
                      help="minimum seconds between requests to one host (default: 2 for remote hosts, "
                           "0 for loopback and mirrors)")
    site.add_argument("--retries", type=int, default=HttpConfig.retries, metavar="N",
                      help=f"retries after errors, timeouts, 5xx and 429 (default: {HttpConfig.retries})")
    site.add_argument("--timeout", type=float, default=HttpConfig.read_timeout, metavar="SECONDS",
                      help=f"read timeout of each request (default: {HttpConfig.read_timeout:g})")
    site.add_argument("--request-deadline", type=float, default=HttpConfig.request_deadline, metavar="SECONDS",
                      help="most seconds one request may take in all, body included; a slower one fails "
                           f"(default: {HttpConfig.request_deadline:g})")
    site.add_argument("--max-file-size", type=parse_size, default=HttpConfig.max_file_size, metavar="SIZE",
                      help="refuse larger files (default: 64M)")
    site.add_argument("--user-agent", metavar="TEXT", help="replace the default User-Agent (name, version, URL)")
    site.add_argument("--ignore-robots", action="store_true", help="do not read robots.txt (for your own mirrors)")


def make_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m pipeline",
                           description="Turn Project Gutenberg bookshelves into corpora.",
                           epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=OneLineParser)

    build = commands.add_parser(
        "build", help="build (or refresh) a shelf's corpus", epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Discover the books of a Gutenberg bookshelf, download each politely, clean it, keep the "
                    "books in the wanted language, drop duplicates, split by book into train/val/test and publish "
                    "a version under OUT/<shelf-slug>/current. Rerun it to refresh: only what changed is "
                    "downloaded, and when nothing changed nothing is published.")
    build.add_argument("--shelf", required=True, metavar="SHELF",
                       help='slug (science-fiction), name ("Science Fiction") or id (68)')
    build.add_argument("--source", choices=("shelf", "catalog"), default="shelf",
                       help="list books from the shelf's pages, or from the offline pg_catalog.csv (default: shelf)")
    build.add_argument("--mirror", metavar="PATH_OR_URL",
                       help="read book texts from a Gutenberg rsync mirror (directory or URL)")
    build.add_argument("--jobs", type=int, default=4, metavar="N",
                       help="books worked on at once (default: 4; with a delay, one request at a time per host)")
    build.add_argument("--dry-run", action="store_true", help="check the config, list the shelf's books, fetch no book")
    build.add_argument("-q", "--quiet", action="store_true",
                       help="print nothing when nothing changed and nothing failed; else only warnings and the summary")
    build.add_argument("-v", "--verbose", action="store_true",
                       help="also log retries and cache decisions, and list every dropped book")
    add_corpus_options(build)
    add_site_options(build)
    build.set_defaults(func=run_build)

    clean = commands.add_parser(
        "clean", help="strip Gutenberg's header, footer, credits and notes from text files",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Clean Gutenberg plain-text files: decode any encoding to UTF-8 and remove the licence header "
                    "and footer, production credits and transcriber's notes, keeping the book as printed.",
        epilog="examples:\n  python -m pipeline clean pg35.txt -o cleaned/\n  python -m pipeline clean - < pg35.txt"
               "\n  python -m pipeline clean pg35.txt --explain\n\nexit codes: 0 ok, 1 some files could not be "
               "cleaned, 2 usage error")
    clean.add_argument("files", nargs="+", metavar="FILE", help="files to clean; - reads stdin and writes stdout")
    clean.add_argument("-o", "--output", type=Path, metavar="OUTDIR",
                       help="write OUTDIR/<same name> for each input (needed for several files)")
    clean.add_argument("--explain", action="store_true", help="print every cut with its rule and context")
    clean.add_argument("--context", type=int, default=2, metavar="N", help="lines of context for --explain (2)")
    clean.add_argument("--remove-illustrations", action="store_true", help="drop [Illustration: ...] markers")
    clean.add_argument("--remove-footnotes", action="store_true", help="drop [Footnote N: ...] blocks")
    clean.add_argument("--remove-underscores", action="store_true", help="turn _italic_ into italic")
    clean.add_argument("--unwrap", action="store_true", help="one line per prose paragraph")
    clean.add_argument("-q", "--quiet", action="store_true", help="no per-file report on stderr")
    clean.set_defaults(func=run_clean, verbose=False)

    report = commands.add_parser(
        "report", help="summarise a published corpus",
        description="Print a published corpus's books per split, drops by reason, languages and sizes.",
        epilog="example:\n  python -m pipeline report corpora/science-fiction --plot lengths.png\n\n"
               "exit codes: 0 ok, 2 no corpus there", formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("corpus", type=Path, metavar="DIR",
                        help="a shelf's corpus folder (its current version is read) or one version folder")
    report.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the book-length distribution per split")
    report.set_defaults(func=run_report, verbose=False, quiet=False)

    verify = commands.add_parser(
        "verify", help="check a published corpus version byte by byte",
        description="Check a published version whole: every file's size and sha256 against the manifest, every "
                    "Parquet row's text against its sha256 and chars, books.csv against the Parquet files, and the "
                    "text shards against the Parquet texts. One line per problem.",
        epilog="examples:\n  python -m pipeline verify corpora/science-fiction\n"
               "  python -m pipeline verify corpora/science-fiction/20261122T031500Z\n\n"
               "exit codes: 0 the version is whole, 1 problems found (one line each), 2 no corpus there",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    verify.add_argument("corpus", type=Path, metavar="DIR",
                        help="a shelf's corpus folder (its current version is checked) or one version folder")
    verify.set_defaults(func=run_verify, verbose=False, quiet=False)

    shelves = commands.add_parser("shelves", help="list the bookshelves and their ids",
                                  description="List the site's bookshelves: id, slug and name.")
    shelves.add_argument("--search", metavar="WORD", help="only shelves whose name contains WORD")
    shelves.add_argument("-v", "--verbose", action="store_true", help="log retries and cache decisions")
    add_site_options(shelves)
    shelves.set_defaults(func=run_shelves, quiet=False)
    return parser


def http_config(args: argparse.Namespace) -> HttpConfig:
    return HttpConfig(delay=args.delay, read_timeout=args.timeout, request_deadline=args.request_deadline,
                      retries=args.retries,
                      max_file_size=args.max_file_size, user_agent=args.user_agent,
                      respect_robots=not args.ignore_robots)


def run_build(args: argparse.Namespace, stop: threading.Event) -> int:
    config = BuildConfig(shelf=args.shelf, source=args.source, base_url=args.base_url, mirror=args.mirror,
                         out=args.out, cache_dir=args.cache_dir, jobs=args.jobs, dry_run=args.dry_run,
                         http=http_config(args), corpus=corpus_config(args))
    progress = not args.quiet and sys.stderr.isatty()
    try:
        result = Build(config, progress=progress, stop=stop).run()
    except NothingKeptError as exc:  # what became of every book first, then the one-line error
        print_summary(exc.result, verbose=args.verbose)
        raise
    if not args.quiet or result.eventful or result.dry_run:
        print_summary(result, verbose=args.verbose)
    return result.exit_code


def run_verify(args: argparse.Namespace, stop: threading.Event) -> int:
    version, problems = resolve_version(args.corpus)
    if not problems:
        problems = verify_version(version)
    for problem in problems:
        print(f"{version}: {problem}")
    if problems:
        print(f"error: {version} is not whole: {len(problems)} problem{'s' if len(problems) > 1 else ''}",
              file=sys.stderr)
        return 1
    print(f"ok: {version} is whole")
    return 0


def run_report(args: argparse.Namespace, stop: threading.Event) -> int:
    report = load_report(args.corpus)
    print(format_report(report))
    if args.plot is not None:
        plot_lengths(report, args.plot)
        print(f"book lengths drawn in {args.plot}")
    return 0


def run_shelves(args: argparse.Namespace, stop: threading.Event) -> int:
    http = http_config(args)
    http.validate()
    check_url(args.base_url, "--base-url")
    cache_dir = args.cache_dir or args.out / ".cache"
    check_directory(cache_dir, "--cache-dir")
    fetcher = open_fetcher(args.base_url, cache_dir, http, stop=stop)
    shelves = search_shelves(list_shelves(fetcher, args.base_url), args.search)
    if not shelves:
        raise ConfigError(f"no shelf name contains {args.search!r}; try a shorter word")
    width = max(len(s.slug) for s in shelves)
    print(f"{'id':>5}  {'slug':<{width}}  name")
    for shelf in shelves:
        print(f"{shelf.id:>5}  {shelf.slug:<{width}}  {shelf.name}")
    return 0


def run_clean(args: argparse.Namespace, stop: threading.Event) -> int:
    options = CleanOptions(remove_illustrations=args.remove_illustrations, remove_footnotes=args.remove_footnotes,
                           remove_underscores=args.remove_underscores, unwrap=args.unwrap)
    if args.output is None and len(args.files) > 1 and not args.explain:
        raise ConfigError("several files need -o OUTDIR (each is written there under its own name)")
    if "-" in args.files and len(args.files) > 1:
        raise ConfigError("'-' (stdin) cannot be mixed with files")
    names = [Path(path).name for path in args.files if path != "-"]
    twice = sorted({name for name in names if names.count(name) > 1})
    if args.output is not None and twice:
        raise ConfigError(f"several inputs are named {', '.join(twice)}: each would overwrite the other in "
                          f"{args.output}; clean them into different OUTDIRs")
    if args.output is not None:
        check_directory(args.output, "-o")
        args.output.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.files:
        name = "stdin" if path == "-" else Path(path).name
        try:
            raw = read_input(path)
        except CleanInputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        result = clean(raw, options)
        if args.explain:
            sys.stdout.write(explain(decode(raw).text, result, name=name, context=args.context))
        if args.output is not None and path != "-":
            try:
                write_atomically(args.output / name, result.text.encode("utf-8"))
            except OSError as exc:
                print(f"error: cannot write {args.output / name}: {exc.strerror or exc}", file=sys.stderr)
                failed += 1
                continue
        elif not args.explain:
            sys.stdout.write(result.text)
        if not args.quiet and not args.explain:
            flags = f"; {'; '.join(result.flags)}" if result.flags else ""
            print(f"{name}: {result.encoding}, {len(result.cuts)} cuts, {len(result.text):,} characters kept{flags}",
                  file=sys.stderr)
    return 1 if failed else 0


def print_summary(result: BuildResult, *, verbose: bool = False) -> None:
    shelf = result.shelf
    print(f"shelf {shelf.name!r} (id {shelf.id}): {result.counts.found} books, {result.source}")
    if result.dry_run:
        for book in result.books:
            author = f" — {book.author}" if book.author else ""
            print(f"  #{book.id:<6} {book.title}{author}")
        print(f"dry run: {len(result.books)} books would be fetched and published under {result.corpus_dir}; "
              f"nothing was downloaded")
        return
    counts = result.counts.by_status
    print(f"  downloaded    {counts[DOWNLOADED]:>5}  ({result.counts.bytes_downloaded / 1e6:.1f} MB)")
    print(f"  not modified  {counts[NOT_MODIFIED]:>5}")
    print(f"  skipped       {counts[SKIPPED]:>5}")
    for reason, n in result.counts.skip_reasons.most_common():
        print(f"      {n:>5}  {reason}")
    print(f"  failed        {counts[FAILED]:>5}")
    for book in result.failed:
        print(f"      #{book.id}  {book.reason}")
    for book in result.stale:
        print(f"      #{book.id}  refresh failed, last good copy kept: {book.stale}")
    print(f"  cleaned       {result.cleaned:>5}  ({result.cleaned_from_cache} unchanged, from the clean cache)")
    for book in result.flagged:
        print(f"      #{book.id}  flagged: {'; '.join(book.clean_audit['flags'])}")
    splits = result.split_counts()
    print(f"  kept          {len(result.kept):>5}  ({', '.join(f'{s} {n}' for s, n in splits.items())})")
    dropped = [b for b in result.books if b.status == DROPPED]
    print(f"  dropped       {len(dropped):>5}")
    for kind, n in Counter(reason_kind(b.reason) for b in dropped).most_common():
        print(f"      {n:>5}  {kind}")
    if verbose:
        for book in dropped:
            print(f"      #{book.id}  {book.reason}")
    disagree = [b for b in result.books if b.language_disagrees]
    if disagree:
        print("  language differs from the metadata: " + ", ".join(
            f"#{b.id} ({'+'.join(b.languages)} → {b.language_detected})" for b in disagree))
    if result.metadata_notes:
        ids = ", ".join(f"#{i}" for i in sorted(result.metadata_notes))
        print(f"  without RDF metadata (kept, listing data used): {ids}")
    if result.repaired:
        print(f"  repaired: {result.repaired}")
    if result.published:
        if result.previous_version:
            print(f"  changes since {result.previous_version}:")
            for split, change in result.changes.items():
                parts = [f"{len(ids)} {what.replace('_', ' ')}" for what, ids in change.items() if ids]
                print(f"      {split:<5}  {', '.join(parts) or 'no change'}")
        print(f"published {result.version} ({result.corpus_dir / 'current'})")
    elif result.version is not None and result.kept:
        state = "now" if result.repaired else "still"
        print(f"unchanged: {result.corpus_dir / 'current'} is {state} {result.version.name}; nothing published")
    if result.pruned:
        print(f"  removed old versions: {', '.join(result.pruned)}")


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGTERM)

    def terminate(signum, frame):  # a kill from cron or systemd stops as cleanly as Ctrl-C
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminate)
    try:
        with logging_redirect_tqdm():
            return args.func(args, stop)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        stop.set()
        print("error: interrupted: rerun the same command to carry on", file=sys.stderr)
        return 130
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
