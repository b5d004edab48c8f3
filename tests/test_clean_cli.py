"""``python -m pipeline clean``: its stable command forms, per-file errors and --explain."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gutenberg_formats import BODY, era_1990s, era_2010

from pipeline.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_files_are_cleaned_into_outdir_under_their_own_names(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    one = tmp_path / "in" / "pg90001.txt"
    two = tmp_path / "in" / "lantern-latin1.txt"
    one.write_bytes(era_2010().encode())
    two.write_bytes(era_1990s(body=BODY.replace("Tamsin", "Tamsín")).replace("\n", "\r\n").encode("latin-1"))
    assert main(["clean", str(one), str(two), "-o", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "pg90001.txt").read_text(encoding="utf-8") == BODY
    assert (tmp_path / "out" / "lantern-latin1.txt").read_text(encoding="utf-8") == BODY.replace("Tamsin", "Tamsín")
    err = capsys.readouterr().err
    assert "pg90001.txt: ascii, 3 cuts" in err and "lantern-latin1.txt: cp1252" in err


def test_dash_reads_stdin_and_writes_stdout():
    result = subprocess.run([sys.executable, "-m", "pipeline", "clean", "-"], input=era_2010().encode(),
                            capture_output=True, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert result.returncode == 0
    assert result.stdout.decode() == BODY


def test_bad_inputs_get_one_line_each_and_the_rest_are_cleaned(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_bytes(era_2010().encode())
    binary = tmp_path / "cover.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" * 50)
    unreadable = tmp_path / "locked.txt"
    unreadable.write_bytes(b"x")
    unreadable.chmod(0)
    folder = tmp_path / "folder"
    folder.mkdir()
    code = main(["clean", str(folder), str(binary), str(tmp_path / "missing.txt"), str(good), str(unreadable),
                 "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert (tmp_path / "out" / "good.txt").read_text(encoding="utf-8") == BODY
    assert any("is a directory" in line for line in err)
    assert any("looks binary" in line for line in err)
    assert any("missing.txt: No such file" in line for line in err)
    if os.geteuid() != 0:  # root reads anything
        assert any("locked.txt: Permission denied" in line for line in err)
    assert all(line.startswith("error: ") for line in err)


def test_several_files_without_an_outdir_is_a_usage_error(tmp_path, capsys):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("x")
    b.write_text("y")
    assert main(["clean", str(a), str(b)]) == 2
    assert "need -o OUTDIR" in capsys.readouterr().err


def test_explain_prints_each_cut_with_its_rule(tmp_path, capsys):
    book = tmp_path / "pg90001.txt"
    book.write_bytes(era_2010().encode())
    assert main(["clean", str(book), "--explain"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pg90001.txt (ascii): 3 cuts")
    for rule in ("header/start-marker", "credits/produced-by", "footer/end-marker"):
        assert f"\n{rule} " in out
    assert "- " in out and "Produced by Ines Varga" in out


def test_options_reach_the_cleaner(tmp_path, capsys):
    book = tmp_path / "b.txt"
    book.write_bytes(era_2010(body="A TALE\n\n[Illustration: a comet]\n\nShe was _very_ tired.\n").encode())
    assert main(["clean", str(book), "--remove-illustrations", "--remove-underscores", "-q"]) == 0
    assert capsys.readouterr().out == "A TALE\n\nShe was very tired.\n"


def test_two_inputs_with_one_name_are_refused_before_any_work(tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "pg1.txt").write_bytes(era_2010().encode())
    code = main(["clean", str(tmp_path / "a" / "pg1.txt"), str(tmp_path / "b" / "pg1.txt"), "-o", str(tmp_path / "o")])
    assert code == 2
    assert "several inputs are named pg1.txt" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_an_outdir_under_a_file_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    book = tmp_path / "b.txt"
    book.write_bytes(era_2010().encode())
    assert main(["clean", str(book), "-o", str(tmp_path / "file" / "sub")]) == 2
    err = capsys.readouterr().err
    assert "is a file; give a directory" in err and len(err.strip().splitlines()) == 1


# Libraries the other commands use (build, report, verify, shelves); cleaning a file needs none of them,
# and loading them would cost clean about a second of start-up on every call.
HEAVY_MODULES = ("pandas", "numpy", "pyarrow", "requests", "urllib3", "bs4", "langdetect", "tqdm", "matplotlib",
                 "torch", "pipeline.build", "pipeline.corpus", "pipeline.discover", "pipeline.fetch")

# Runs ``python -m pipeline ARGS`` as the command line does, then writes every module it loaded to a file.
_RUN_AND_LIST_MODULES = """
import atexit, pathlib, runpy, sys
listing = pathlib.Path(sys.argv.pop(1))
atexit.register(lambda: listing.write_text("\\n".join(sorted(sys.modules))))
sys.argv[0] = "pipeline"
runpy.run_module("pipeline", run_name="__main__", alter_sys=True)
"""


def modules_loaded_by(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    listing = tmp_path / "modules.txt"
    result = subprocess.run([sys.executable, "-c", _RUN_AND_LIST_MODULES, str(listing), *args], capture_output=True,
                            cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))
    return result, set(listing.read_text().split())


def heavy_among(modules: set[str]) -> list[str]:
    return sorted(name for name in modules
                  if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY_MODULES))


def test_clean_loads_only_what_cleaning_needs(tmp_path):
    book = tmp_path / "pg90001.txt"
    book.write_bytes(era_2010().encode())
    result, modules = modules_loaded_by(["clean", str(book), "-o", str(tmp_path / "out")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "pg90001.txt").read_text(encoding="utf-8") == BODY
    assert "pipeline.clean.cleaner" in modules  # the listing is real: the cleaner ran in that process
    assert heavy_among(modules)[:10] == []
    for args in (["clean", "--help"], ["--version"]):
        result, modules = modules_loaded_by(args, tmp_path)
        assert result.returncode == 0 and heavy_among(modules) == [], (args, heavy_among(modules)[:10])


def test_the_listing_sees_heavy_modules_where_a_command_loads_them(tmp_path):
    # the check above can fail: report loads pandas (to read the corpus) and the build package
    result, modules = modules_loaded_by(["report", str(tmp_path / "no-corpus")], tmp_path)
    assert result.returncode == 2 and "error: " in result.stderr.decode()
    assert "pandas" in modules and "pipeline.build.report" in modules
