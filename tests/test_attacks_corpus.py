"""The corpus pipeline attacked as issue 22 found it broken: each test is the attack, and what must hold."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from conftest import THIRDS
from test_corpus_cli import run

from pipeline.build.run import Build
from pipeline.config import CorpusConfig


def build(make_config, **corpus):
    return Build(make_config(corpus=CorpusConfig(**corpus)), progress=False).run()


def cli_build(capsys, site, out: Path, *extra):
    return run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(out), *extra)


def kept_splits(version: Path) -> dict[int, str]:
    import csv
    with open(version / "books.csv", encoding="utf-8", newline="") as handle:
        return {int(r["id"]): r["split"] for r in csv.DictReader(handle) if r["status"] == "kept"}


# -- 1. a book never changes split because split_keys.json was edited -----------------------------------------

def test_one_digit_changed_in_split_keys_moves_no_book_and_warns_naming_it(site, make_config, tmp_path, caplog):
    first = build(make_config, split_ratios=THIRDS)
    before = kept_splits(first.version)
    registry = tmp_path / "corpora" / "science-fiction" / "split_keys.json"
    record = json.loads(registry.read_text())
    from pipeline.corpus.splits import split_of
    victim = next(b for b in sorted(before) if before[b] == "train")
    # a key that places the victim in another split, as one changed digit would
    other = next(k for k in range(1, 10_000)
                 if split_of(k, record["split_salt"], tuple(record["split_ratios"])) != before[victim])
    record["keys"][str(victim)] = other
    registry.write_text(json.dumps(record, indent=0))
    with caplog.at_level(logging.WARNING):
        second = build(make_config)
    assert kept_splits(second.version) == before  # the published record wins
    warnings = [r.getMessage() for r in caplog.records if "split key" in r.getMessage()]
    assert len(warnings) == 1 and f"#{victim} ({other} there" in warnings[0]
    assert json.loads(registry.read_text())["keys"][str(victim)] == first_key(first, victim)
    # the rewritten file is whole again: the next build is quiet
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        build(make_config)
    assert not [r for r in caplog.records if "split_keys.json" in r.getMessage()]


def first_key(result, book_id):
    return next(b.split_key for b in result.books if b.id == book_id)


def test_a_split_keys_file_that_fails_its_checksum_is_named_in_a_warning(site, make_config, tmp_path, caplog):
    build(make_config, split_ratios=THIRDS)
    registry = tmp_path / "corpora" / "science-fiction" / "split_keys.json"
    record = json.loads(registry.read_text())
    assert len(record["sha256"]) == 64
    record["split_salt"] = "pepper"  # a hand edit of the salt would move books too
    registry.write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING):
        result = build(make_config)
    assert not result.published
    assert any("does not match its checksum" in r.getMessage() for r in caplog.records)
    assert json.loads(registry.read_text())["split_salt"] == "gutenberg-lstm"


# -- 2. links planted under --out never lead a write outside it -----------------------------------------------

def test_a_lock_planted_as_a_link_to_another_file_does_not_truncate_it(site, tmp_path, capsys):
    out = tmp_path / "corpora"
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    (out / "science-fiction").mkdir(parents=True)
    (out / "science-fiction" / ".lock").symlink_to(victim)
    code, _, err = cli_build(capsys, site, out, "-q")
    assert victim.read_text() == "keep me"
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: cannot take the lock")
    assert "symbolic link" in err


def test_a_cache_host_folder_planted_as_a_link_receives_no_write(site, tmp_path, capsys):
    out = tmp_path / "corpora"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    host = site.base_url.split("//")[1].replace(":", "_")
    (out / ".cache" / "raw").mkdir(parents=True)
    (out / ".cache" / "raw" / host).symlink_to(elsewhere, target_is_directory=True)
    code, _, err = cli_build(capsys, site, out, "-q")
    assert list(elsewhere.rglob("*")) == []
    assert code == 3 and "leads outside" in err and "Traceback" not in err


def test_every_write_helper_refuses_a_path_through_a_link(tmp_path):
    from pipeline.files import OutsideRootError, create_file, make_folder, write_atomically
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir(), outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    target = outside / "file"
    target.write_text("x")
    (root / "file-link").symlink_to(target)
    for attempt in (lambda: write_atomically(root / "link" / "f", b"y", root=root),
                    lambda: make_folder(root / "link" / "sub", root),
                    lambda: create_file(root / "file-link", root),
                    lambda: create_file(root / "file-link")):  # O_NOFOLLOW even without a root
        with pytest.raises(OSError):
            attempt()
    assert target.read_text() == "x" and sorted(p.name for p in outside.iterdir()) == ["file"]
    write_atomically(root / "file-link", b"new", root=root)  # the rename replaces the link, not its target
    assert target.read_text() == "x" and (root / "file-link").read_bytes() == b"new"
    assert issubclass(OutsideRootError, OSError)


# -- 3. an endless Next is not followed for ever ---------------------------------------------------------------

def endless_shelf(site, *, fresh_ids: bool, total: str | None = "8") -> None:
    """Shelf 68's pages from the second on, for ever: each links to the next; each lists new ids or page 1's."""
    first = site.files["/ebooks/bookshelf/68"].decode()
    for n in range(1, 3000):
        start = 1 + 4 * n
        page = first.replace('href="/ebooks/bookshelf/68?start_index=5"',
                             f'href="/ebooks/bookshelf/68?start_index={start + 4}"')
        page = page.replace('<link rel="next" title="Next Page" href="/ebooks/bookshelf/68?start_index=9"/>', "")
        page = page.replace("</head>", f'<link rel="next" href="/ebooks/bookshelf/68?start_index={start + 4}"/></head>',
                            1)
        if fresh_ids:
            for book in (101, 102, 103, 104):
                page = page.replace(f'href="/ebooks/{book}"', f'href="/ebooks/{book + 1000 * n}"')
        if total is None:
            page = page.replace('<meta name="totalResults" content="8"/>', "")
        site.files[f"/ebooks/bookshelf/68?start_index={start}"] = page.encode()


@pytest.mark.parametrize("fresh_ids, total, most", [(True, "8", 4), (False, "8", 2), (True, None, 30)])
def test_an_endless_next_link_stops_with_a_warning(site, tmp_path, caplog, monkeypatch, fresh_ids, total, most):
    from test_hostile import fetcher_for

    import pipeline.discover.shelves as shelves
    from pipeline.fetch.site import GutenbergSite
    endless_shelf(site, fresh_ids=fresh_ids, total=total)
    if total is None:  # no count to bound it: the hard cap does, made small here
        monkeypatch.setattr(shelves, "MAX_PAGES", most)
    with caplog.at_level(logging.WARNING):
        books = shelves.read_shelf(fetcher_for(site, tmp_path), GutenbergSite(site.base_url),
                                   shelves.Shelf(68, "Science Fiction"))
    pages = [p for p in site.requested_paths() if p.startswith("/ebooks/bookshelf/68")]
    assert len(pages) <= most and "stopping there" in caplog.text
    assert {101, 102, 103, 104} <= {b.id for b in books}


# -- 4. options that would turn off politeness, or read for ever, are refused ----------------------------------

@pytest.mark.parametrize("option", [["--delay", "nan"], ["--delay", "inf"], ["--delay", "-nan"], ["--timeout", "nan"],
                                    ["--timeout", "inf"], ["--request-deadline", "nan"],
                                    ["--user-agent", "bot\r\nX-Injected: 1"], ["--user-agent", "bot\n"],
                                    ["--ids-file", "/dev/zero"], ["--min-language-share", "nan"],
                                    ["--near-duplicate-threshold", "nan"], ["--split", "nan/5/5"]])
def test_a_non_finite_number_or_a_header_break_is_one_line_exit_2_before_any_request(site, tmp_path, capsys, option):
    code, out, err = cli_build(capsys, site, tmp_path / "corpora", "-q", *option)
    assert code == 2 and out == "" and err.count("\n") == 1 and "error: " in err, err
    assert site.requested_paths() == []


def test_every_float_of_the_http_settings_must_be_finite():
    from pipeline.config import HttpConfig
    from pipeline.errors import ConfigError
    for name in ("delay", "connect_timeout", "read_timeout", "request_deadline", "backoff", "max_backoff",
                 "max_crawl_delay"):
        for value in (float("nan"), float("inf")):
            with pytest.raises(ConfigError, match="must be a number of seconds"):
                HttpConfig(**{name: value}).validate()


# -- 5. verify sees every file and every field -----------------------------------------------------------------

def test_verify_reports_an_extra_shard_copied_text_and_edited_manifest_fields(site, make_config, tmp_path, capsys):
    import shutil
    result = build(make_config, split_ratios=THIRDS)
    assert run(capsys, "verify", str(result.version))[0] == 0
    manifest = json.loads((result.version / "manifest.json").read_text())
    assert len(manifest["manifest_sha256"]) == 64

    extra = tmp_path / "extra"
    shutil.copytree(result.version, extra)
    val_shard = extra / manifest["splits"]["val"]["shards"][0]["path"]
    (extra / "train" / "train-99999.txt").write_bytes(val_shard.read_bytes())  # val text copied into train
    code, out, _ = run(capsys, "verify", str(extra))
    assert code == 1 and out == f"{extra}: train/train-99999.txt: not listed in the manifest\n"

    for field, value in [("content_key", "0" * 64), ("counts", {"kept": 10**6}), ("config", {}),
                         ("splits.train.words", 1)]:
        edited = tmp_path / f"edited-{field}"
        shutil.copytree(result.version, edited)
        record = json.loads((edited / "manifest.json").read_text())
        if "." in field:
            record["splits"]["train"]["words"] = value
        else:
            record[field] = value
        (edited / "manifest.json").write_text(json.dumps(record))
        code, out, _ = run(capsys, "verify", str(edited))
        assert code == 1 and "manifest.json: its fields do not match its manifest_sha256" in out, field


# -- 6. a build repairs what verify would report ----------------------------------------------------------------

def flip_byte(path: Path, at: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if at is None else at
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("target", ["train.parquet", "shard", "books.csv", "cleaning.jsonl"])
def test_a_flipped_byte_in_current_is_republished_with_a_repaired_line(site, tmp_path, capsys, target):
    out = tmp_path / "corpora"
    assert cli_build(capsys, site, out, "-q", "--split", "34/33/33")[0] == 1  # 107 has no text
    current = (out / "science-fiction" / "current").resolve()
    manifest = json.loads((current / "manifest.json").read_text())
    path = current / (manifest["splits"]["train"]["shards"][0]["path"] if target == "shard" else target)
    flip_byte(path)
    assert run(capsys, "verify", str(current))[0] == 1
    code, stdout, _ = cli_build(capsys, site, out, "-q")
    repaired = [line for line in stdout.splitlines() if "repaired:" in line]
    assert len(repaired) == 1 and f"{current.name} was damaged" in repaired[0], stdout
    new = (out / "science-fiction" / "current").resolve()
    assert new != current and run(capsys, "verify", str(new))[0] == 0
    assert kept_splits(new) == kept_splits_of(manifest)
    # and then the corpus is whole: the next build is quiet
    assert "repaired" not in cli_build(capsys, site, out, "-q")[1]


def kept_splits_of(manifest: dict) -> dict[int, str]:
    return {book: split for split, record in manifest["splits"].items() for book in record["ids"]}


def test_a_damage_that_keeps_the_mtime_is_found_by_build_verify(site, tmp_path, capsys):
    out = tmp_path / "corpora"
    cli_build(capsys, site, out, "-q")
    current = (out / "science-fiction" / "current").resolve()
    path = current / "cleaning.jsonl"
    stat = path.stat()
    flip_byte(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "repaired" not in cli_build(capsys, site, out, "-q")[1]  # cheap check: sizes and changed files
    code, stdout, _ = cli_build(capsys, site, out, "-q", "--verify")
    assert "repaired: " in stdout and (out / "science-fiction" / "current").resolve() != current


# -- 7. full disks, emptied caches, long names ------------------------------------------------------------------

def test_a_full_disk_when_the_split_keys_are_saved_is_one_line_not_a_traceback(site, tmp_path, capsys, monkeypatch):
    import errno

    import pipeline.corpus.splits as splits

    def full(path, data, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(splits, "write_atomically", full)
    code, _, err = cli_build(capsys, site, tmp_path / "corpora", "-q")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "split_keys.json: No space left on device" in err and err.startswith("error: cannot write")


def test_a_disk_filling_up_while_fetching_prints_the_failed_books_and_the_summary_before_one_line(
        site, tmp_path, capsys, monkeypatch):
    import errno

    import pipeline.corpus.splits as splits
    from pipeline.fetch.cache import RawCache

    commit = RawCache.commit
    full = {"yes": False}

    def commit_until_full(self, url, temp, **kwargs):  # the disk fills up at the third book's text
        if url.endswith(".txt") and "/103" in url:
            full["yes"] = True
        if full["yes"] and url.endswith(".txt"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(temp))
        return commit(self, url, temp, **kwargs)

    def no_space(path, data, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(RawCache, "commit", commit_until_full)
    monkeypatch.setattr(splits, "write_atomically", no_space)
    code, out, err = cli_build(capsys, site, tmp_path / "corpora")
    assert code == 1 and "Traceback" not in err
    assert err.count("error:") == 1 and err.startswith("error: cannot write ") and "No space left on device" in err
    failed = [line for line in out.splitlines() if line.strip().startswith("#") and "No space left" in line]
    assert failed and all("cannot write the cache" in line for line in failed), out
    [count] = [int(line.split()[1]) for line in out.splitlines() if line.startswith("  failed ")]
    assert len(failed) >= 3 and count >= len(failed), out  # the fake site's own failures too
    assert "shelf 'Science Fiction'" in out and "  downloaded" in out and "  kept" in out, out
    assert "published" not in out


def test_any_disk_error_reaching_the_cli_is_one_line(site, tmp_path, capsys, monkeypatch):
    import errno

    from pipeline.build import run as build_run

    def full(self):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/somewhere/file")

    monkeypatch.setattr(build_run.Build, "run", full)
    code, _, err = cli_build(capsys, site, tmp_path / "corpora", "-q")
    assert code == 1 and err == ("error: cannot write (No space left on device (/somewhere/file)); free some space "
                                 "or fix the folder, then rerun the same command to carry on\n")


def test_a_zero_length_cache_index_is_rebuilt_from_the_sidecars(site, make_config, tmp_path, caplog):
    build(make_config)
    index = tmp_path / "corpora" / ".cache" / "http.sqlite"
    for suffix in ("-wal", "-shm"):
        index.with_name(index.name + suffix).unlink(missing_ok=True)
    index.write_bytes(b"")
    site.clear_log()
    with caplog.at_level(logging.WARNING):
        result = build(make_config)
    assert "it is empty, 0 bytes" in caplog.text and "rebuilt it from the" in caplog.text
    assert site.count(200) == 0, site.requested_paths()  # nothing downloaded again
    assert not result.published


def test_a_shelf_name_of_100_four_byte_characters_makes_a_folder(site, make_config, tmp_path):
    site.shelves[68] = "\U0001d518" * 100
    for book in site.books.values():
        book.shelves = [site.shelves[68] if s == "Science Fiction" else s for s in book.shelves]
    site.render()
    result = Build(make_config(shelf="68", corpus=CorpusConfig(split_ratios=THIRDS)), progress=False).run()
    assert len(result.corpus_dir.name.encode("utf-8")) <= 120 and (result.corpus_dir / "current").is_dir()


def test_the_trainers_token_cache_beside_a_version_is_not_damage(site, make_config, capsys):
    first = build(make_config)
    (first.version / "tokens" / "char-123").mkdir(parents=True)
    (first.version / "tokens" / "char-123" / "train.bin").write_bytes(b"\0\1")
    assert run(capsys, "verify", str(first.version))[0] == 0
    assert not build(make_config).published


# -- 12. nothing outlives a build ------------------------------------------------------------------------------

@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_kill_9_of_a_build_leaves_no_worker_forkserver_or_resource_tracker_within_a_second(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from test_worker_signals import REPO, alive, descendants, shelf_with_two_big_books, wait_until_the_workers_work
    site = shelf_with_two_big_books()
    site.start()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "build", "--shelf", "68", "--base-url", site.base_url,
         "--out", str(tmp_path), "--jobs", "2", "--min-words", "100", "-q"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    try:
        wait_until_the_workers_work(site, process)
        left = descendants(process.pid)  # the forkserver, the resource tracker and the workers
        assert len(left) >= 3
        process.send_signal(signal.SIGKILL)  # as the OOM killer would
        process.wait(timeout=10)
        killed = time.monotonic()
        while any(alive(pid) for pid in left) and time.monotonic() - killed < 1.5:
            time.sleep(0.05)
        took = time.monotonic() - killed
        assert not [pid for pid in left if alive(pid)], "a process of the build outlived it"
        print(f"every process of the build gone {took:.2f} s after kill -9")
    finally:
        for pid in descendants(process.pid) | {process.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        site.stop()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="sends signals to a child process")
def test_sigterm_while_the_libraries_load_exits_130_with_its_line(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from test_worker_signals import REPO
    # python -X importtime writes to stderr as modules load: the signal lands in the middle of the imports
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "build", "--shelf", "68", "--out", str(tmp_path)],
                               cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    time.sleep(0.35)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("error: interrupted"), err


def test_quiet_stays_silent_when_it_takes_over_a_crashed_runs_lock(site, tmp_path, capsys):
    site.books.pop(107)  # the book without a text: a run that fails nothing is a quiet one
    site.render()
    out = tmp_path / "corpora"
    assert cli_build(capsys, site, out, "-q")[0] == 0
    (out / "science-fiction" / ".lock").write_text("999999999\n")  # left by a run killed with -9
    assert cli_build(capsys, site, out, "-q") == (0, "", "")
