"""Options that must not silently break a corpus: split settings, content key, -q, failures, pruning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import THIRDS
from fake_gutenberg import FakeBook, gutenberg_text, prose
from test_corpus_cli import run

from pipeline.build.run import Build
from pipeline.config import CorpusConfig
from pipeline.corpus.versions import CorpusDir

REPO = Path(__file__).resolve().parents[1]


def build(make_config, **corpus):
    return Build(make_config(corpus=CorpusConfig(**corpus)), progress=False).run()


def add_books(site, ids) -> None:
    for book_id in ids:
        site.books[book_id] = FakeBook(book_id, f"Made-up {book_id}", "Writer, Some", ["Science Fiction"],
                                       text=gutenberg_text(book_id, f"Made-up {book_id}", "S W",
                                                           prose(book_id)).encode())
    site.render()


def change_book(site, book_id: int, seed: int) -> None:
    site.books[book_id].text = gutenberg_text(book_id, site.books[book_id].title, "S W", prose(seed)).encode()
    site.render()


def cli_build(capsys, site, out: Path, *extra):
    return run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(out), *extra)


# -- split settings ---------------------------------------------------------------------------------------

def test_other_split_shares_or_salt_on_an_existing_corpus_are_refused_before_any_work(site, tmp_path, capsys):
    out = tmp_path / "corpora"
    assert cli_build(capsys, site, out, "-q")[0] == 1  # 107 has no text
    version = (out / "science-fiction" / "current").resolve()
    for extra, option in [(["--split", "80/10/10"], "--split 80/10/10 differs from 90/5/5"),
                          (["--split-salt", "pepper"], "--split-salt 'pepper' differs from the salt")]:
        site.clear_log()
        code, stdout, err = cli_build(capsys, site, out, "-q", *extra)
        assert code == 2 and stdout == ""
        assert err.startswith(f"error: {option}") and "add --reshuffle to place every book again" in err
        assert len(err.strip().splitlines()) == 1
        assert not [r for r in site.log if r.path.startswith(("/cache/epub/", "/files/"))]  # no book touched
    assert (out / "science-fiction" / "current").resolve() == version
    # the corpus's own shares, given explicitly (as fractions or percentages), are fine
    assert cli_build(capsys, site, out, "-q", "--split", "0.9/0.05/0.05", "--split-salt", "gutenberg-lstm")[0] == 1
    assert (out / "science-fiction" / "current").resolve() == version


def test_a_corpus_keeps_its_own_split_when_none_is_given(site, make_config, tmp_path):
    add_books(site, range(300, 312))
    first = build(make_config, split_ratios=THIRDS)
    second = build(make_config)  # no split given: the corpus's thirds, not the default 90/5/5
    assert not second.published and second.version == first.version
    assert second.split_counts() == first.split_counts()
    keys = json.loads((tmp_path / "corpora" / "science-fiction" / "split_keys.json").read_text())
    assert keys["split_salt"] == "gutenberg-lstm" and keys["split_ratios"] == [0.333333333] * 3


def test_a_corpus_from_before_the_registry_recorded_its_settings_is_still_protected(site, tmp_path, capsys):
    out = tmp_path / "corpora"
    cli_build(capsys, site, out, "-q", "--split", "34/33/33")
    registry = out / "science-fiction" / "split_keys.json"
    record = json.loads(registry.read_text())
    registry.write_text(json.dumps({"keys": record["keys"]}))  # as older versions wrote it
    code, _, err = cli_build(capsys, site, out, "-q", "--split", "90/5/5")
    assert code == 2 and "differs from 34/33/33, the shares" in err  # read from the current manifest
    cli_build(capsys, site, out, "-q")
    assert json.loads(registry.read_text())["split_ratios"] == [0.34, 0.33, 0.33]


def test_reshuffle_moves_books_and_the_summary_counts_them_out_as_well_as_in(site, tmp_path, capsys):
    add_books(site, range(300, 330))
    out = tmp_path / "corpora"
    cli_build(capsys, site, out, "-q", "--split", "34/33/33")
    before = json.loads((out / "science-fiction" / "current" / "manifest.json").read_text())["splits"]
    in_test = before["test"]["books"]
    assert in_test > 0
    code, _, err = cli_build(capsys, site, out, "-q", "--split", "100/0/0", "--reshuffle")
    assert code == 2 and "leaves val and test empty" in err and "--allow-empty-splits" in err
    code, stdout, err = cli_build(capsys, site, out, "-q", "--split", "100/0/0", "--reshuffle", "--allow-empty-splits")
    assert code == 1, err
    lines = stdout.splitlines()
    test_line = next(line for line in lines if line.strip().startswith("test "))
    assert test_line.split(None, 1)[1] == f"{in_test} moved out"
    train_line = next(line for line in lines if line.strip().startswith("train "))
    assert f"{before['val']['books'] + in_test} moved in" in train_line
    manifest = json.loads((out / "science-fiction" / "current" / "manifest.json").read_text())
    assert len(manifest["changes"]["test"]["moved_out"]) == in_test and manifest["splits"]["test"]["books"] == 0
    # the new shares are the corpus's own from now on
    assert cli_build(capsys, site, out, "-q", "--allow-empty-splits")[0] == 1
    code, _, err = cli_build(capsys, site, out, "-q", "--split", "34/33/33")
    assert code == 2 and "differs from 100/0/0" in err


# -- the content key --------------------------------------------------------------------------------------

def test_options_that_change_no_published_byte_publish_nothing(site, make_config, tmp_path):
    first = build(make_config, keep_versions=3)
    for overrides in (dict(keep_versions=7), dict(keep_versions=1), dict(allow_empty_splits=True),
                      dict(reshuffle=True), dict(split_ratios=(90, 5, 5))):
        again = build(make_config, **overrides)
        assert not again.published and again.version == first.version, overrides
    assert Build(make_config(jobs=1), progress=False).run().published is False
    assert build(make_config, separator="\n\n----\n\n").published  # this one shapes the shards


# -- -q and failures --------------------------------------------------------------------------------------

def test_quiet_prints_nothing_at_all_when_nothing_changed_and_nothing_failed(site, tmp_path):
    del site.books[107]  # the one book without a text: every book succeeds
    site.render()
    argv = [sys.executable, "-m", "pipeline", "build", "--shelf", "science-fiction", "--base-url", site.base_url,
            "--out", str(tmp_path / "corpora"), "-q"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    first = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0 and "published " in first.stdout
    quiet = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    change_book(site, 101, 9000)
    changed = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert changed.returncode == 0 and "1 changed" in changed.stdout


def test_a_run_where_every_book_fails_lists_every_failed_book_with_its_reason(site, tmp_path, capsys):
    for book in site.books.values():
        book.text = None
    site.render()
    code, out, err = cli_build(capsys, site, tmp_path / "corpora", "-q")
    assert code == 1
    failed = {101, 102, 103, 104, 106, 107, 108}
    for book_id in failed:
        assert f"      #{book_id}  no plain-text file" in out, out
    assert f"  failed        {len(failed):>5}" in out
    # (only the pipeline's lines: the test server, in this process, may log a client that hung up on it)
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        "error: no book of shelf 'Science Fiction' was kept (7 failed, 1 not text); nothing was published"]
    assert "unchanged:" not in out and "published " not in out


# -- pruning ----------------------------------------------------------------------------------------------

def test_pruning_never_removes_the_version_before_current(site, make_config, tmp_path):
    versions = [build(make_config, keep_versions=1).version]
    for n in range(3):
        change_book(site, 101, 8000 + n)
        result = build(make_config, keep_versions=1)
        versions.append(result.version)
        assert result.pruned == ([versions[-3].name] if n else [])
    corpus = CorpusDir(tmp_path / "corpora" / "science-fiction")
    assert corpus.versions() == versions[-2:]  # current and the one a reader may still be reading
    manifest = json.loads((versions[-1] / "manifest.json").read_text())
    assert manifest["previous_version"] == versions[-2].name
