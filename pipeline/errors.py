"""The pipeline's errors. Each maps to one exit code, so the CLI can report any of them as one line.

Exit codes (documented in README for cron):
  0 ok, 1 some books failed, 2 usage or config error, 3 the source could not be used,
  75 another build holds the lock, 130 interrupted.
"""


class PipelineError(Exception):
    """Base class: a problem the user can act on, reported as one line."""

    exit_code = 1


class UsageError(PipelineError):
    """The command line or the config is wrong; nothing was done."""

    exit_code = 2


class ConfigError(UsageError):
    """A config value is invalid."""


class ShelfNotFoundError(UsageError):
    """The shelf given matches no shelf, or more than one."""


class SourceError(PipelineError):
    """The source (site, catalog or mirror) could not be read; nothing was built."""

    exit_code = 3


class LayoutChangedError(SourceError):
    """A page parsed to nothing it should hold: the site's markup may have changed."""


class EmptyShelfError(SourceError):
    """The shelf's page says it holds no books: there is nothing to build."""


class FetchError(PipelineError):
    """One URL could not be fetched after every retry."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class NotFoundError(FetchError):
    """The server answered 404 (or 410): retrying will not help."""


class CacheWriteError(FetchError):
    """What was fetched could not be written to the cache (a full disk, a read-only folder)."""


class CacheCorruptError(PipelineError):
    """The cache's index is damaged in a way this run could not repair."""


class LockedError(PipelineError):
    """Another build of the same corpus holds its lock; this run did nothing."""

    # EX_TEMPFAIL: cron wrappers and systemd read 75 as "try again later"
    exit_code = 75


class PublishError(PipelineError):
    """The corpus could not be written; the published version is unchanged."""


class Interrupted(PipelineError):
    """The run was stopped by Ctrl-C or SIGTERM; a rerun carries on where it stopped."""

    exit_code = 130
