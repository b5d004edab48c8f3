"""Typed configuration of a build, validated whole before any work starts."""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigError
from .selection import Selector, validate_selection

DEFAULT_BASE_URL = "https://www.gutenberg.org"
BASE_URL_ENV = "PIPELINE_BASE_URL"
# Gutenberg's robot policy asks for about two seconds between requests.
GUTENBERG_DELAY = 2.0
MiB = 1024 * 1024


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_delay(base_url: str) -> float:
    """Seconds between requests to the base URL's host when ``--delay`` is not given.

    Loopback hosts (tests, the stand-in site) get no delay; every other host, gutenberg.org
    first of all, gets Gutenberg's two seconds: an unknown host deserves the same courtesy.
    """
    host = urlsplit(base_url).hostname or ""
    return 0.0 if is_loopback(host) else GUTENBERG_DELAY


@dataclass
class HttpConfig:
    """How the one HTTP client behaves towards every host."""

    delay: float | None = None
    """Minimum seconds between two requests to one host; None: 2 s, or 0 for loopback and mirrors."""
    connect_timeout: float = 10.0
    """Seconds to wait for a connection."""
    read_timeout: float = 60.0
    """Seconds to wait for the next bytes of a response."""
    request_deadline: float = 300.0
    """Seconds one request may take in all, body included; a slower one fails (a dripping server)."""
    retries: int = 5
    """Further attempts after a connection error, a timeout, a 5xx, a 429 or a truncated body."""
    backoff: float = 1.0
    """First backoff in seconds; doubled at each retry, with jitter, unless Retry-After says more."""
    max_backoff: float = 120.0
    """Longest single wait between attempts, Retry-After included."""
    max_file_size: int = 64 * MiB
    """A response larger than this many bytes is refused."""
    user_agent: str | None = None
    """Replaces the default User-Agent (project name, version and URL)."""
    respect_robots: bool = True
    """Read each host's robots.txt and refuse disallowed paths; honour its Crawl-delay."""
    max_crawl_delay: float = 60.0
    """A robots.txt Crawl-delay above this many seconds is capped to it, with a warning naming the host."""

    def validate(self) -> None:
        for name in ("delay", "connect_timeout", "read_timeout", "request_deadline", "backoff", "max_backoff",
                     "max_crawl_delay"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
                option = {"delay": "--delay", "read_timeout": "--timeout"}.get(name, f"--{name.replace('_', '-')}")
                raise ConfigError(f"{option} must be a number of seconds, not {value!r}")
        if self.user_agent is not None and (not self.user_agent.strip() or not self.user_agent.isprintable()
                                            or not self.user_agent.isascii()):
            raise ConfigError(f"--user-agent {ascii(self.user_agent)[:80]} must be printable ASCII on one line "
                              f"(no CR, LF or other control characters)")
        if self.delay is not None and self.delay < 0:
            raise ConfigError(f"--delay must be 0 or more seconds, not {self.delay}")
        for name in ("connect_timeout", "read_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be more than 0 seconds, not {getattr(self, name)}")
        if not self.request_deadline > 0:
            raise ConfigError(f"--request-deadline must be more than 0 seconds, not {self.request_deadline}")
        if not self.max_crawl_delay >= 0:
            raise ConfigError(f"max_crawl_delay must be 0 or more seconds, not {self.max_crawl_delay}")
        if self.retries < 0:
            raise ConfigError(f"--retries must be 0 or more, not {self.retries}")
        if self.backoff < 0 or self.max_backoff < 0:
            raise ConfigError("backoff times must be 0 or more seconds")
        if self.max_file_size <= 0:
            raise ConfigError(f"--max-file-size must be more than 0 bytes, not {self.max_file_size}")


DEFAULT_SEPARATOR = "\n\n<|endoftext|>\n\n"
SPLIT_NAMES = ("train", "val", "test")
DEFAULT_SPLIT_RATIOS = (0.9, 0.05, 0.05)
DEFAULT_SPLIT_SALT = "gutenberg-lstm"


def normalised_ratios(ratios) -> tuple[float, float, float]:
    """Shares as fractions of 1, rounded so that 90/5/5 and 0.9/0.05/0.05 compare equal."""
    total = sum(ratios)
    return tuple(round(r / total, 9) for r in ratios)  # type: ignore[return-value]


def format_ratios(ratios) -> str:
    """90/5/5, whatever the scale the shares were given in."""
    return "/".join(f"{100 * r:g}" for r in normalised_ratios(ratios))


@dataclass
class CorpusConfig:
    """What goes into the published corpus and how it is laid out."""

    languages: list[str] = field(default_factory=lambda: ["en"])
    """Wanted languages (langdetect codes: en, fr, de, zh-cn...); a book is kept when they hold enough of it."""
    min_language_share: float = 0.8
    """The share of a book's sample chunks that must be in a wanted language."""
    passage_filter: bool = False
    """Inside kept books, cut runs of two or more long paragraphs (200+ characters) in another language."""
    min_words: int = 2000
    """Books with fewer words after cleaning are dropped."""
    near_duplicate_threshold: float = 0.9
    """Estimated Jaccard similarity (MinHash, word 5-shingles) at which two books are one work."""
    split_ratios: tuple[float, float, float] | None = None
    """Shares of train, val and test, adding up to 100 (or to 1); each book's split is a hash of (salt, its
    split key). None: the corpus's own (recorded in split_keys.json), or 90/5/5 for a new corpus."""
    split_salt: str | None = None
    """Salt of the split hash. None: the corpus's own, or ``gutenberg-lstm`` for a new corpus."""
    allow_empty_splits: bool = False
    """Accept a corpus whose val or test split holds no book: shares of 0 (a corpus only for training, say), or
    fewer than 3 kept books (otherwise refused: a trainable corpus has a book in each split)."""
    reshuffle: bool = False
    """Accept split shares or a salt other than the corpus's own: every book is placed again, and some move."""
    shard_size: int = 64 * MiB
    """Largest text shard in bytes; books do not straddle shards unless one book alone is larger."""
    separator: str = DEFAULT_SEPARATOR
    """Written between two books in a text shard."""
    keep_versions: int = 3
    """Published versions kept on disk, ``current`` included; older ones are deleted, but never the one
    before ``current`` (a reader that opened ``current`` just before it moved may still be reading it)."""

    def validate(self) -> None:
        if not self.languages:
            raise ConfigError("--language is empty: give at least one language code, like en")
        unknown = [lang for lang in self.languages if lang not in known_languages()]
        if unknown:
            raise ConfigError(f"--language {', '.join(unknown)}: not a language code langdetect knows; "
                              f"use one of {', '.join(sorted(known_languages()))}")
        if not 0 < self.min_language_share <= 1:
            raise ConfigError(f"--min-language-share must be more than 0 and at most 1, not {self.min_language_share}")
        if self.min_words < 0:
            raise ConfigError(f"--min-words must be 0 or more, not {self.min_words}")
        if not 0 < self.near_duplicate_threshold <= 1:
            raise ConfigError("--near-duplicate-threshold must be more than 0 and at most 1, "
                              f"not {self.near_duplicate_threshold}")
        if self.split_ratios is not None:
            self._validate_ratios(self.split_ratios)
        if self.split_salt is not None and not self.split_salt:
            raise ConfigError("--split-salt is empty; leave it out to use the corpus's own")
        if self.shard_size < 1024:
            raise ConfigError(f"--shard-size must be at least 1K, not {self.shard_size} bytes")
        if self.keep_versions < 1:
            raise ConfigError(f"--keep-versions must be 1 or more, not {self.keep_versions}")

    def _validate_ratios(self, ratios) -> None:
        given = "/".join(f"{r:g}" for r in ratios)
        if len(ratios) != 3 or not all(math.isfinite(r) and r >= 0 for r in ratios):
            raise ConfigError(f"--split {given}: give three shares for train/val/test, none negative, like 90/5/5")
        total = sum(ratios)
        if not (math.isclose(total, 100, abs_tol=1e-6) or math.isclose(total, 1, abs_tol=1e-9)):
            raise ConfigError(f"--split {given} adds up to {total:g}; the shares must add up to 100, like 90/5/5")
        if ratios[0] <= 0:
            raise ConfigError(f"--split {given} leaves train empty; give train a share above 0, like 90/5/5")
        empty = [name for name, ratio in zip(SPLIT_NAMES[1:], ratios[1:]) if ratio == 0]
        if empty and not self.allow_empty_splits:
            raise ConfigError(f"--split {given} leaves {' and '.join(empty)} empty; give each a share, like "
                              f"90/5/5, or add --allow-empty-splits if that is what you want")

    def content_options(self) -> dict:
        """The options that shape what is published: a corpus's content key covers these and nothing else
        (not ``keep_versions``, ``allow_empty_splits`` nor ``reshuffle``, which change no published byte)."""
        ratios = self.split_ratios if self.split_ratios is not None else DEFAULT_SPLIT_RATIOS
        return {"languages": list(self.languages), "min_language_share": self.min_language_share,
                "passage_filter": self.passage_filter, "min_words": self.min_words,
                "near_duplicate_threshold": self.near_duplicate_threshold,
                "split_ratios": list(normalised_ratios(ratios)),
                "split_salt": self.split_salt if self.split_salt is not None else DEFAULT_SPLIT_SALT,
                "shard_size": self.shard_size, "separator": self.separator}


@dataclass
class BuildConfig:
    """Everything ``python -m pipeline build`` needs, checked by ``validate()`` before any request."""

    shelf: str = ""
    """A bookshelf: a slug (``science-fiction``), a name (``"Science Fiction"``) or an id (``68``); "" for none."""
    source: str = "shelf"
    """Where the book list comes from: ``shelf`` (the shelf's pages) or ``catalog`` (pg_catalog.csv)."""
    base_url: str = field(default_factory=lambda: os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
    """Site with Gutenberg's URL layout; defaults to $PIPELINE_BASE_URL, then www.gutenberg.org."""
    mirror: str | None = None
    """Optional rsync mirror (local directory or URL, ``1/2/123/123-0.txt`` layout) for book texts."""
    out: Path = Path("corpora")
    """The corpora root: the corpus goes to ``OUT/<shelf-slug>/``, the download cache to ``OUT/.cache/``."""
    cache_dir: Path | None = None
    """The raw download cache and its SQLite index; None: ``OUT/.cache``."""
    jobs: int = field(default_factory=lambda: available_cores())
    """Worker processes for the CPU steps (decode, clean, language, profile), and books downloaded at once (in
    threads); default: the machine's cores. 1 runs the CPU steps in this process. With a delay, requests to one
    host still go one at a time."""
    dry_run: bool = False
    """Resolve the shelf and list its books, then stop: no book is downloaded."""
    verify: bool = False
    """Check every byte of ``current`` before building on it, not only the files changed since last checked."""
    http: HttpConfig = field(default_factory=HttpConfig)
    """The HTTP client's settings."""
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    """Filters, splits and layout of the published corpus."""
    selectors: list[Selector] = field(default_factory=list)
    """Selectors beyond ``shelf`` (authors, Top 100, ids, subjects, a language); the corpus is their union."""
    name: str | None = None
    """The corpus folder under OUT; required with more than one selector, else derived (``top-100``)."""

    @property
    def all_selectors(self) -> list[Selector]:
        return ([Selector("shelf", self.shelf)] if self.shelf else []) + list(self.selectors)

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else self.out / ".cache"

    @property
    def mirror_is_url(self) -> bool:
        return bool(self.mirror) and urlsplit(self.mirror).scheme in ("http", "https")

    def validate(self) -> None:
        if self.source not in ("shelf", "catalog"):
            raise ConfigError(f"--source must be 'shelf' or 'catalog', not {self.source!r}")
        validate_selection(self.all_selectors, self.name, self.source)
        check_url(self.base_url, "--base-url")
        if self.mirror:
            if self.mirror_is_url:
                check_url(self.mirror, "--mirror")
            elif not Path(self.mirror).is_dir():
                raise ConfigError(f"--mirror {self.mirror}: no such directory; "
                                  f"give a mirror directory or an http(s) URL")
        if self.jobs < 1:
            raise ConfigError(f"--jobs must be 1 or more, not {self.jobs}")
        check_directory(self.out, "--out")
        check_directory(self.resolved_cache_dir, "--cache-dir")
        self.http.validate()
        self.corpus.validate()

    def hosts(self) -> set[str]:
        """The hosts requests (and redirects) may go to."""
        hosts = {urlsplit(self.base_url).netloc.lower()}
        if self.mirror_is_url:
            hosts.add(urlsplit(self.mirror).netloc.lower())
        return hosts

    def delays(self) -> dict[str, float]:
        """Per-host minimum delay between requests."""
        if self.http.delay is not None:
            delays = {host: self.http.delay for host in self.hosts()}
        else:
            delays = {urlsplit(self.base_url).netloc.lower(): default_delay(self.base_url)}
        if self.mirror_is_url and self.http.delay is None:
            delays.setdefault(urlsplit(self.mirror).netloc.lower(), 0.0)
        return delays


def known_languages() -> set[str]:
    """The codes langdetect has a profile for. Read from the profile files' names: loading the profiles
    costs ~55 MB and a second, which checking a config must not make the main process pay."""
    from langdetect.detector_factory import PROFILES_DIRECTORY

    return {entry.name for entry in os.scandir(PROFILES_DIRECTORY) if entry.is_file()}


def available_cores() -> int:
    """The cores this process may run on (a container's or taskset's limit, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def check_directory(path: Path, option: str) -> None:
    """A directory the run will create or write into: no file may stand in its place or above it."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise ConfigError(f"{option} {path}: {part} is a file; give a directory")
            if not os.access(part, os.W_OK):
                raise ConfigError(f"{option} {path}: {part} is not writable; give a directory you can write to")
            return


def check_url(url: str, option: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{option} {url!r} is not an http(s) URL; give one like https://www.gutenberg.org")
