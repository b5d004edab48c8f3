"""The corpus side of the command line: options, the lock's exit code, report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.corpus.lock import CorpusLock

REPO = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def test_a_build_summary_says_what_was_kept_dropped_and_published(site, tmp_path, capsys):
    code, out, _ = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q")
    assert code == 1  # 107 has no text
    assert "kept              5  (train " in out
    assert "dropped           1\n          1  language" in out
    current = (tmp_path / "science-fiction" / "current").resolve()
    assert f"published {current} ({tmp_path / 'science-fiction' / 'current'})" in out
    code, out, _ = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q")
    assert "unchanged:" in out and "nothing published" in out
    site.books[101].text = site.books[101].text.replace(b"THE END", b"THE VERY END")
    site.render()
    code, out, _ = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q")
    assert "changes since " in out and "1 changed" in out


def test_a_split_the_hash_leaves_empty_gets_a_book(site, tmp_path, capsys):
    code, out, _ = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path),
                       "--split", "98/1/1")
    # by hash alone all five would be in train; the two nearest val's and test's intervals are placed there
    assert "kept              5  (train 3, val 1, test 1)" in out
    assert "warning:" not in out
    code, out, _ = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path / "even"),
                       "--split", "34/33/33")
    assert "warning:" not in out


def test_a_second_build_of_the_same_corpus_exits_75_naming_the_running_one(site, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with CorpusLock(tmp_path / "science-fiction"):
        second = subprocess.run([sys.executable, "-m", "pipeline", "build", "--shelf", "science-fiction",
                                 "--base-url", site.base_url, "--out", str(tmp_path), "-q"],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 75
    assert second.stderr.strip().splitlines() == [
        f"error: another build is running (pid {os.getpid()}) on {tmp_path / 'science-fiction'}; "
        f"this run did nothing, try again when it ends"]
    assert not (tmp_path / "science-fiction" / "current").exists()


def test_a_lock_left_by_a_killed_build_is_taken_over(site, tmp_path, capsys):
    (tmp_path / "science-fiction").mkdir(parents=True)
    (tmp_path / "science-fiction" / ".lock").write_text("999999999\n")  # no such process, nobody holds it
    code, out, err = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q")
    assert code == 1 and "published " in out
    assert "took over the lock" in err and "999999999" in err


@pytest.mark.parametrize("argv, message", [
    (["--language", "xx"], "--language xx: not a language code langdetect knows"),
    (["--split", "90/10"], "is not three shares for train/val/test"),
    (["--split", "0/50/50"], "--split 0/50/50 leaves train empty; give train a share above 0"),
    (["--split", "nan/5/5"], "none negative, like 90/5/5"),
    (["--split", "90/15/5"], "--split 90/15/5 adds up to 110; the shares must add up to 100"),
    (["--split", "100/0/0"], "leaves val and test empty; give each a share, like 90/5/5, or add --allow-empty-splits"),
    (["--split", "95/5/0"], "--split 95/5/0 leaves test empty"),
    (["--split-salt", ""], "--split-salt is empty"),
    (["--min-language-share", "1.5"], "--min-language-share must be more than 0 and at most 1"),
    (["--shard-size", "12"], "--shard-size must be at least 1K"),
    (["--keep-versions", "0"], "--keep-versions must be 1 or more"),
    (["--min-words", "-1"], "--min-words must be 0 or more"),
])
def test_corpus_option_mistakes_are_one_line_errors(site, tmp_path, capsys, argv, message):
    code, out, err = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "science-fiction").exists()


def test_report_prints_splits_drops_languages_and_sizes_and_draws_lengths(site, tmp_path, capsys):
    run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q")
    code, out, err = run(capsys, "report", str(tmp_path / "science-fiction"), "--plot", str(tmp_path / "len.png"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("corpus science-fiction (Science Fiction), version ")
    manifest = json.loads((tmp_path / "science-fiction" / "current" / "manifest.json").read_text())
    for split in ("train", "val", "test"):
        row = next(line for line in lines if line.startswith(f"{split} "))
        assert row.split()[1] == str(manifest["splits"][split]["books"])
    total = next(line for line in lines if line.startswith("total "))
    assert total.split()[1] == "5"
    assert "dropped: 3 of 8 books" in out
    assert any(line.split() == ["1", "language"] for line in lines)
    assert any(line.split()[:4] == ["fr", "0", "/", "1"] for line in lines)
    assert "book length in words (min / median / max):" in out
    png = (tmp_path / "len.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_report_on_a_folder_without_a_corpus_is_a_one_line_error(tmp_path, capsys):
    code, out, err = run(capsys, "report", str(tmp_path))
    assert code == 2 and "no published corpus at" in err and len(err.strip().splitlines()) == 1


def test_report_refuses_a_foreign_manifest_and_an_unknown_plot_format(site, tmp_path, capsys):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "manifest.json").write_text("{}")
    (tmp_path / "other" / "books.csv").write_text("id\n1\n")
    code, _, err = run(capsys, "report", str(tmp_path / "other"))
    assert code == 2 and "is not a corpus manifest of this tool" in err and len(err.strip().splitlines()) == 1
    run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q")
    code, _, err = run(capsys, "report", str(tmp_path / "science-fiction"), "--plot", str(tmp_path / "len.txt"))
    assert code == 2 and "name it .png" in err and len(err.strip().splitlines()) == 1


def test_a_folder_in_place_of_the_current_link_is_refused_before_any_work(site, tmp_path, capsys):
    import shutil

    run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q")
    link = tmp_path / "science-fiction" / "current"
    target = link.resolve()
    link.unlink()
    shutil.copytree(target, link)  # a restore without -l
    site.clear_log()
    code, _, err = run(capsys, "build", "--shelf", "68", "--base-url", site.base_url, "--out", str(tmp_path), "-q")
    assert code == 2 and "is a folder, not a link to a version" in err
    assert not any(r.path.startswith("/cache/epub/") for r in site.log)  # no book was touched
    assert [p.name for p in (tmp_path / "science-fiction").iterdir() if p.name[0].isdigit()] == [target.name]
