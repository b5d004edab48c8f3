"""The command line: one-line errors with the documented exit codes, summaries, interruption."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.fetch.cache import RawCache

REPO = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_prints_a_summary_with_each_failure(site, tmp_path, capsys):
    code, out, err = run(capsys, "build", "--shelf", "Science Fiction", "--base-url", site.base_url,
                         "--out", str(tmp_path), "--quiet")
    assert code == 1
    assert "shelf 'Science Fiction' (id 68): 8 books" in out
    assert "downloaded        6" in out
    assert "not text: Sound" in out
    assert "#107  no plain-text file" in out
    assert "without RDF metadata (kept, listing data used): #104" in out
    code, out, _ = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q")
    assert "not modified      6" in out


def test_base_url_comes_from_the_environment(site, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PIPELINE_BASE_URL", site.base_url)
    code, out, _ = run(capsys, "build", "--shelf", "humor", "--out", str(tmp_path), "-q", "--allow-empty-splits")
    assert code == 0 and "shelf 'Humor' (id 33): 1 books" in out


def test_shelves_lists_ids_slugs_and_names(site, tmp_path, capsys):
    code, out, _ = run(capsys, "shelves", "--base-url", site.base_url, "--out", str(tmp_path), "--search", "fiction")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["id", "slug", "name"]
    assert any(line.split()[:2] == ["68", "science-fiction"] for line in lines)
    assert len(lines) == 4


def test_dry_run_lists_the_books(site, tmp_path, capsys):
    code, out, _ = run(capsys, "build", "--shelf", "science-fiction", "--base-url", site.base_url,
                       "--out", str(tmp_path), "--dry-run")
    assert code == 0
    assert "#101    The Clockwork Comet — Ada Vance" in out
    assert "dry run: 8 books; 8 would be downloaded" in out
    _, built, _ = run(capsys, "build", "--shelf", "science-fiction", "--base-url", site.base_url,
                      "--out", str(tmp_path))
    counted = {line.split()[0]: int(line.split()[1]) for line in built.splitlines()
               if line.strip().split(" ")[0] in ("failed", "skipped")}
    failed = counted["failed"] + counted["skipped"]  # no text of theirs is cached: still to be downloaded
    assert 0 < failed < 8
    code, out, _ = run(capsys, "build", "--shelf", "science-fiction", "--base-url", site.base_url,
                       "--out", str(tmp_path), "--dry-run")
    assert (f"dry run: 8 books; {failed} would be downloaded and {8 - failed} already in the download cache would "
            f"be checked for changes") in out, out


@pytest.mark.parametrize("argv, code, message", [
    (["build", "--shelf", "space opera"], 2, "error: no shelf matches 'space opera'"),
    (["build", "--shelf", "sea stories"], 2, "is ambiguous"),
    (["build", "--shelf", "68", "--delay", "-2"], 2, "--delay must be 0 or more"),
    (["build", "--shelf", "68", "--mirror", "/nonexistent/mirror"], 2, "no such directory"),
    (["build", "--shelf", "68", "--max-file-size", "lots"], 2, "is not a size"),
    (["build"], 2, "give at least one selector: --shelf, --author"),
    (["shelves", "--search", "zzzz"], 2, "no shelf name contains 'zzzz'"),
])
def test_user_mistakes_are_one_line_errors(site, tmp_path, capsys, argv, code, message):
    with_site = argv + ["--base-url", site.base_url, "--out", str(tmp_path)] if argv != ["build"] else argv
    try:
        got = main(with_site)
    except SystemExit as exit_:  # argparse's own errors
        got = exit_.code
    _, err = capsys.readouterr()
    assert got == code
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_an_unreachable_site_exits_3_in_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "build", "--shelf", "68", "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path),
                       "--retries", "0")
    assert code == 3
    assert err.startswith("error: cannot read the shelf index") and len(err.strip().splitlines()) == 1


def test_a_changed_layout_exits_3_and_says_so(site, tmp_path, capsys):
    site.files["/ebooks/bookshelf/68"] = site.files["/ebooks/bookshelf/68"].replace(b"booklink", b"tile")
    code, _, err = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path))
    assert code == 3 and "page layout may have changed" in err


def test_help_documents_exit_codes():
    result = subprocess.run([sys.executable, "-m", "pipeline", "build", "--help"], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 0
    assert "--shelf SHELF" in result.stdout
    assert "2   usage or config error" in result.stdout and "130 interrupted" in result.stdout


def start_build(site, out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "pipeline", "build", "--shelf", "68", "--base-url", site.base_url,
                             "--out", str(out), "--jobs", "1", "-q"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_texts(site, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for r in site.log if r.path.endswith(".txt") and r.status == 200) >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"the build did not fetch {n} texts in {timeout} s")


def assert_cache_intact(out: Path) -> None:
    cache = RawCache(out / ".cache")
    urls = [row[0] for row in cache._db.execute("SELECT url FROM entries")]
    assert urls
    for url in urls:
        assert cache.is_intact(cache.lookup(url)), url
    assert not list((out / ".cache").rglob("*.part"))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_a_killed_build_reruns_without_fetching_anything_twice(site, tmp_path, capsys, sig):
    site.response_delay = 0.3  # leaves seconds of work after the second text, even on a loaded machine
    process = start_build(site, tmp_path)
    wait_for_texts(site, 2)
    process.send_signal(sig)
    _, err = process.communicate(timeout=30)
    if sig == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 130
        assert err.strip().splitlines() == ["error: interrupted: rerun the same command to carry on; nothing "
                                            "fetched so far is fetched again"]
        assert_cache_intact(tmp_path)
    site.response_delay = 0
    code, _, _ = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q")
    assert code == 1  # book 107 has no text
    full = Counter(r.path for r in site.log if r.status == 200 and not r.truncated)
    twice = [path for path, n in full.items() if n > 1]
    # one request may have been in flight at the kill: its body was sent but never committed
    assert len(twice) <= 1, twice
    assert_cache_intact(tmp_path)


@pytest.mark.parametrize("argv, message", [
    (["build", "--shelf", "²"], "no shelf matches '²'"),
    (["build", "--shelf", "68", "--cache-dir", "{file}"], "is a file; give a directory"),
    (["shelves", "--cache-dir", "{file}"], "is a file; give a directory"),
])
def test_more_user_mistakes_are_one_line_errors(site, tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("x")
    argv = [a.replace("{file}", str(tmp_path / "file")) for a in argv]
    code = main(argv + ["--base-url", site.base_url, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
