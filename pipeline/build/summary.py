"""What a build prints when it ends: what became of every book, and what was published."""

from __future__ import annotations

from collections import Counter

from ..book import DOWNLOADED, DROPPED, FAILED, NOT_MODIFIED, SKIPPED, reason_kind
from .result import BuildResult


def print_summary(result: BuildResult, *, verbose: bool = False) -> None:
    shelf = result.shelf
    if shelf.id is not None:
        print(f"shelf {shelf.name!r} (id {shelf.id}): {result.counts.found} books, {result.source}")
    else:
        print(f"{shelf.name} ({' + '.join(shelf.labels)}) → {shelf.slug}: {result.counts.found} books, "
              f"{result.source}")
    if result.dry_run:
        for book in result.books:
            author = f" — {book.author}" if book.author else ""
            print(f"  #{book.id:<6} {book.title}{author}")
        cached = len(result.cached_ids & {b.id for b in result.books})
        fetched = len(result.books) - cached
        plans = [f"{fetched} would be downloaded"] if fetched else []
        if cached:
            plans.append(f"{cached} already in the download cache would be checked for changes")
        print(f"dry run: {len(result.books)} books; {' and '.join(plans) or 'nothing to fetch'}, then published "
              f"under {result.corpus_dir}; nothing was downloaded")
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
    failed = {b.id for b in result.failed}
    noted = sorted(set(result.metadata_notes) - failed)  # a failed book is listed once, under "failed"
    if noted:
        ids = ", ".join(f"#{i}" for i in noted)
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
        empty = [split for split, n in splits.items() if n == 0]
        if empty and result.kept:
            # a few books split 90/5/5 leave val and test empty; the trainer then refuses, so say it here
            print(f"warning: {' and '.join(empty)} {'holds' if len(empty) == 1 else 'hold'} no book of the "
                  f"{len(result.kept)} kept: training needs train and val, and a test split measures it; "
                  f"select more books")
    elif result.version is not None and result.kept:
        state = "now" if result.repaired else "still"
        print(f"unchanged: {result.corpus_dir / 'current'} is {state} {result.version.name}; nothing published")
    if result.pruned:
        print(f"  removed old versions: {', '.join(result.pruned)}")
