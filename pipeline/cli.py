"""Command line of the pipeline. It only parses and reports; the library does the work.

Each command imports its part of the library when it runs, not here: ``clean`` needs only the
cleaner, and the build's libraries (pandas, requests, bs4, langdetect, tqdm) would add about a second
of start-up to every ``clean``, ``--help`` and ``--version`` (tests/test_clean_cli.py checks it).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path

from . import PROJECT_NAME, __version__
from .config import BuildConfig, available_cores, check_directory, check_url
from .errors import ConfigError, PipelineError
from .options import (
    add_corpus_options,
    add_selector_options,
    add_site_options,
    corpus_config,
    http_config,
    selectors_from_args,
)

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


def make_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m pipeline",
                           description="Turn Project Gutenberg bookshelves into corpora.",
                           epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROJECT_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=OneLineParser)

    build = commands.add_parser(
        "build", help="build (or refresh) a corpus: a shelf, an author, the Top 100, ids, a subject", epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Discover the books of a selection (a bookshelf, an author, the Top 100, ids, a subject, or "
                    "the whole catalog in a language), download each politely, clean it, keep the "
                    "books in the wanted language, drop duplicates, split by book into train/val/test and publish "
                    "a version under OUT/<name>/current. Rerun it to refresh: only what changed is "
                    "downloaded, and when nothing changed nothing is published.")
    add_selector_options(build)
    build.add_argument("--source", choices=("shelf", "catalog"), default="shelf",
                       help="list books from the site's pages, or from the offline pg_catalog.csv (default: shelf)")
    build.add_argument("--mirror", metavar="PATH_OR_URL",
                       help="read book texts from a Gutenberg rsync mirror (directory or URL)")
    build.add_argument("--jobs", type=int, metavar="N",
                       help=f"worker processes for decoding, cleaning, language and MinHash, and books downloaded at "
                            f"once (default: the machine's cores, {available_cores()} here; 1 runs everything in this "
                            f"process; more than the cores slows the CPU steps down; with a delay, one request at a "
                            f"time per host)")
    build.add_argument("--dry-run", action="store_true", help="check the config, list the shelf's books, fetch no book")
    build.add_argument("--verify", action="store_true",
                       help="check every byte of the current version before building on it (default: sizes, and "
                            "the sha256 of files changed since last checked); a damaged one is republished")
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
        epilog="examples:\n  python -m pipeline report corpora/science-fiction --plot lengths.png\n"
               "  python -m pipeline report corpora/science-fiction --html report.html\n\n"
               "exit codes: 0 ok, 2 no corpus there", formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("corpus", type=Path, metavar="DIR",
                        help="a shelf's corpus folder (its current version is read) or one version folder")
    report.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the book-length distribution per split")
    report.add_argument("--html", type=Path, metavar="FILE.html",
                        help="also write one self-contained HTML page: these tables and plots of lengths, languages, "
                             "drops, cleaning cuts and authors (images inline, no network needed)")
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


def run_build(args: argparse.Namespace, stop: threading.Event) -> int:
    from .build.result import result_of
    from .build.run import Build, NothingKeptError
    from .build.summary import print_summary

    jobs = {} if args.jobs is None else {"jobs": args.jobs}
    selectors, shelf = selectors_from_args(args)
    config = BuildConfig(shelf=shelf, source=args.source, base_url=args.base_url, mirror=args.mirror,
                         out=args.out, cache_dir=args.cache_dir, dry_run=args.dry_run, verify=args.verify,
                         selectors=selectors, name=args.name, http=http_config(args), corpus=corpus_config(args),
                         **jobs)
    progress = not args.quiet and sys.stderr.isatty()
    try:
        result = Build(config, progress=progress, stop=stop).run()
    except NothingKeptError as exc:  # what became of every book first, then the one-line error
        print_summary(exc.result, verbose=args.verbose)
        raise
    except (OSError, PipelineError) as exc:  # a full disk: the failed books and the summary, then main's one line
        if result_of(exc) is not None:
            print_summary(result_of(exc), verbose=args.verbose)
        raise
    if not args.quiet or result.eventful or result.dry_run:
        if result.lock_taken_over_from and not args.verbose:  # -v has logged it already
            print(f"warning: took over the lock of {result.corpus_dir} left by pid {result.lock_taken_over_from}, "
                  f"which is no longer running", file=sys.stderr)
        print_summary(result, verbose=args.verbose)
    return result.exit_code


def run_verify(args: argparse.Namespace, stop: threading.Event) -> int:
    from .corpus.verify import resolve_version, verify_version

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
    from .build.report import format_report, load_report

    report = load_report(args.corpus)
    print(format_report(report))
    if args.plot is not None:
        from .build.plots import plot_lengths  # matplotlib loads only when a picture is asked for

        plot_lengths(report, args.plot)
        print(f"book lengths drawn in {args.plot}")
    if args.html is not None:
        from .build.report_html import write_html_report

        write_html_report(report, args.html)
        print(f"report written to {args.html}")
    return 0


def run_shelves(args: argparse.Namespace, stop: threading.Event) -> int:
    from .build.run import list_shelves, open_fetcher
    from .discover.shelves import search_shelves

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
    from .clean.cleaner import CleanInputError, CleanOptions, clean, explain, read_input
    from .clean.decode import decode
    from .files import FolderSyncs, write_atomically

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
    folders = FolderSyncs()  # OUTDIR is flushed to disk once, after the last rename, not after each file's
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
                write_atomically(args.output / name, result.text.encode("utf-8"), folders=folders)
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
    folders.flush()
    return 1 if failed else 0


def _logging_beside_progress_bars(command: str) -> contextlib.AbstractContextManager:
    """Log lines printed above tqdm's bars, not through them; clean draws no bar and skips tqdm's import."""
    if command == "clean":
        return contextlib.nullcontext()
    from tqdm.contrib.logging import logging_redirect_tqdm

    return logging_redirect_tqdm()


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
        with _logging_beside_progress_bars(args.command):
            return args.func(args, stop)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a full disk, a read-only folder: the system's word for it, in one line
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: cannot write ({exc.strerror or exc}{where}); free some space or fix the folder, then rerun "
              f"the same command to carry on", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        stop.set()
        print("error: interrupted: rerun the same command to carry on", file=sys.stderr)
        return 130
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
