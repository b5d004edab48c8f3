"""Every pipeline and benchmark command README and the docs/ pages show, run from a fresh clone.

The trainer's commands are run by test_trainer_clone.py. Here:

- every ``python -m pipeline ...`` line, and the pipeline command inside the crontab line and the
  systemd unit of the nightly refresh, runs in a fresh clone against the tests' own Gutenberg-like
  site (``$PIPELINE_BASE_URL``), never www.gutenberg.org; it must exit 0 without a traceback.
  The files the commands name (``picks.txt``, ``pg35.txt``, ``pg84.txt``) are written for them, the
  mirror of ``--mirror DIR`` is the site's texts in a temporary folder, and the stand-in walkthrough
  (``--base-url http://127.0.0.1:8765``) runs against ``../shared/gutenberg/serve.py`` where it is
  (started as the docs show, on a free port), else against the tests' site;
- every ``python bench/NAME.py ...`` line: the script is in the clone and its ``--help`` exits 0
  and lists the options the docs give it (a benchmark itself takes minutes);
- every other command-like line must be one of those, or be run elsewhere (the set-up commands:
  .ci/run; ``srun python -m trainer ...``: its command is shown, and run, on its own).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import STANDIN
from doc_commands import DocLine, all_code_lines, fresh_clone, optional_parts_as_written, unique
from fake_gutenberg import FakeBook, gutenberg_text, prose
from fake_selectors import SelectorSite
from test_standin import standin

REPO = Path(__file__).resolve().parents[1]
CRONTAB = re.compile(r"^(?:\S+\s+){5}cd (\S+) && (python -m pipeline .*)$")
EXEC_START = re.compile(r"^ExecStart=(\S*python3?) (-m pipeline .*)$")
STANDIN_PORT = "http://127.0.0.1:8765"
# The corpus folders the docs say one selector names by itself (docs/building.md, "Which books: selectors").
SELECTOR_CORPORA = ["science-fiction", "author-wells-h-g", "top-100", "ids-84-1342-2701", "ids-picks",
                    "subject-science-fiction", "language-en"]
# What the commands read or write in the clone besides corpora/ (ignored by git): written for them, or asked for.
COMMAND_FILES = ["picks.txt", "pg35.txt", "pg84.txt", "pg35.clean.txt", "cleaned/", "lengths.png", "report.html"]


def kind(line: DocLine) -> str | None:
    """What runs a command-like line of the docs; None for a line that is not a command (output, a unit's keys)."""
    text = line.text
    if text.startswith("python -m pip install "):
        return "setup"
    if text.startswith("python -m trainer "):
        return "trainer"
    if text.startswith("srun python -m trainer "):
        return "srun"
    if text.startswith("python -m pipeline ") or CRONTAB.match(text) or EXEC_START.match(text):
        return "pipeline"
    if re.match(r"^python bench/\w+\.py\b", text):
        return "bench"
    if re.match(r"^python \.\./shared/gutenberg/serve\.py\b", text):
        return "standin"
    if re.match(r"^(python3?|srun|sudo|pip|\$) ", text) or "python -m " in text and not text.startswith("error: "):
        return "unknown"
    return None


def test_every_command_of_the_docs_is_run_by_a_test():
    lines = all_code_lines()
    kinds = {}
    for line in lines:
        kinds.setdefault(kind(line), []).append(line)
    assert not kinds.get("unknown"), f"commands no test runs; add them to one: {kinds.get('unknown')}"
    assert len(kinds.get("pipeline", [])) >= 15 and len(kinds.get("bench", [])) >= 7, kinds
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    pipeline = {" ".join(line.text.split()) for line in kinds["pipeline"]}
    for line in kinds["setup"]:  # the tests' set-up is .ci/run; the other ends in a build, shown and run on its own
        assert line.text in ci or " ".join(line.text.split(" && ")[-1].split()) in pipeline, line
    trainer = {" ".join(line.text.split()) for line in kinds["trainer"]}
    for line in kinds.get("srun", []):  # SLURM is not here; the command srun starts is shown and run on its own
        assert " ".join(line.text.split()[1:]) in trainer, line


# -- the site, and the files the commands name ------------------------------------------------------------------------

def docs_site() -> SelectorSite:
    """A site the docs' commands all find books on: 44 on the Science Fiction shelf (4 of them by an author
    written "Wells, H. G."), books 84, 1342 and 2701 elsewhere; subjects in the catalog, and the Top 100 page."""
    def book(book_id: int, title: str, author: str, shelves: list[str]) -> FakeBook:
        text = gutenberg_text(book_id, title, author.split(",")[0], prose(book_id, paragraphs=40))
        return FakeBook(book_id, title, author, shelves, downloads=1000 - book_id % 997, text=text.encode())

    site = SelectorSite(books=[], shelves={68: "Science Fiction", 69: "Science Fiction by Women", 33: "Humor"})
    for book_id in range(300, 340):
        site.books[book_id] = book(book_id, f"Made-up Voyage {book_id}", "Writer, Some", ["Science Fiction"])
        site.subjects[book_id] = ["Science fiction"]
    for n, book_id in enumerate((35, 36, 159, 5230)):
        site.books[book_id] = book(book_id, f"Made-up Story {n}", "Wells, H. G. (Herbert George), 1866-1946",
                                   ["Science Fiction"])
        site.subjects[book_id] = ["Science fiction -- Fiction", "Time travel -- Fiction"]
    for book_id in (84, 1342, 2701):
        site.books[book_id] = book(book_id, f"Made-up Pick {book_id}", "Other, An", ["Humor"])
    site.render()
    return site


def write_mirror(site: SelectorSite, mirror: Path) -> Path:
    """The site's texts in Gutenberg's rsync layout: book 1234 in 1/2/3/1234/1234-0.txt."""
    for book in site.books.values():
        folder = mirror.joinpath(*str(book.id)[:-1] or "0", str(book.id))
        folder.mkdir(parents=True)
        (folder / f"{book.id}-0.txt").write_bytes(book.text)
    return mirror


def write_command_files(clone: Path) -> None:
    (clone / "picks.txt").write_text("# books picked by hand\n84\n1342\n2701\n", encoding="utf-8")
    for book_id, title in ((35, "The Made-up Machine"), (84, "A Made-up Monster")):
        (clone / f"pg{book_id}.txt").write_bytes(gutenberg_text(book_id, title, "Some Writer", prose(book_id)).encode())
    with (clone / ".git" / "info" / "exclude").open("a", encoding="utf-8") as exclude:
        exclude.write("".join(f"/{name}\n" for name in COMMAND_FILES))


@contextmanager
def standin_site(log: Path):
    """``python ../shared/gutenberg/serve.py`` as the docs start it, on a free port; None where it is absent."""
    if not (STANDIN / "serve.py").is_file():
        yield None
        return
    with standin(log) as url:
        yield url


def shell_line(line: DocLine, clone: Path, mirror: Path, site_url: str, standin_url: str | None) -> str:
    """The line as a bash command in the clone: this Python, the test's mirror and sites for the docs' stand-ins."""
    text = optional_parts_as_written(line.text)
    python = shlex.quote(sys.executable)
    if match := CRONTAB.match(text):
        text = f"cd {shlex.quote(str(clone))} && {match.group(2)}"
    elif match := EXEC_START.match(text):
        text = f"python {match.group(2)}"
    text = re.sub(r"(^| )python ", rf"\g<1>{python} ", text)
    text = re.sub(r"--mirror DIR\b", f"--mirror {shlex.quote(str(mirror))}", text)
    return text.replace(STANDIN_PORT, standin_url or site_url)


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    return fresh_clone(tmp_path_factory.mktemp("docs-clone") / "clone")


@pytest.mark.timeout(1500)  # some twenty runs of the pipeline, a few seconds each, and seven short fits
def test_every_pipeline_command_of_the_docs_runs_from_a_fresh_clone(clone, tmp_path):
    lines = unique([line for line in all_code_lines() if kind(line) == "pipeline"])
    pages = {line.page for line in lines}
    assert {"README.md", "docs/building.md", "docs/cleaning.md", "docs/refreshes.md"} <= pages, pages
    write_command_files(clone)
    site = docs_site()
    site.start()
    env = dict(os.environ, PYTHONPATH=str(clone), PYTHONWARNINGS="ignore", PIPELINE_BASE_URL=site.base_url)
    outputs = {}
    try:
        mirror = write_mirror(site, tmp_path / "mirror")
        with standin_site(tmp_path / "standin.log") as standin_url:
            for line in lines:
                command = shell_line(line, clone, mirror, site.base_url, standin_url)
                result = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True,
                                        timeout=600)
                shown = (line.page, line.text, result.stdout[-1500:], result.stderr[-2000:])
                assert result.returncode == 0, shown
                assert "Traceback" not in result.stdout + result.stderr, shown
                outputs[line.text] = result
    finally:
        site.stop()
    assert any(f"--base-url {STANDIN_PORT}" in text for text in outputs), "the stand-in walkthrough was not run"

    corpora = clone / "corpora"
    for name in SELECTOR_CORPORA:  # each selector named its corpus folder as the docs say
        assert (corpora / name / "current" / "manifest.json").is_file(), (name, sorted(os.listdir(corpora)))
    # and each can be trained on as published: every split holds a book, so the debug config's fit runs
    train_env = dict(env, PIPELINE_BASE_URL="")
    for name in SELECTOR_CORPORA:
        fit = subprocess.run([sys.executable, "-m", "trainer", "fit", "--config", "configs/debug.yaml",
                              "--data.corpus", f"corpora/{name}", "--trainer.max_steps", "4",
                              "--trainer.val_check_interval", "2"], cwd=clone, env=train_env,
                             capture_output=True, text=True, timeout=600)
        assert fit.returncode == 0, (name, fit.stderr[-2000:])
        assert "val_loss" in fit.stdout and "Traceback" not in fit.stderr, (name, fit.stdout[-1500:])
    assert (clone / "cleaned" / "pg35.txt").stat().st_size > 1000 and (clone / "cleaned" / "pg84.txt").is_file()
    cleaned = (clone / "pg35.clean.txt").read_text(encoding="utf-8")  # stdin to stdout: the body, no licence
    assert cleaned.startswith("THE MADE-UP MACHINE") and "PROJECT GUTENBERG" not in cleaned.upper(), cleaned[:300]
    assert (clone / "lengths.png").stat().st_size > 0
    page = (clone / "report.html").read_text(encoding="utf-8")  # the report's page, its pictures inline
    assert page.count('<img src="data:image/png;base64,') == 5, page[:500]
    card = clone / "corpora" / "science-fiction" / "current" / "README.md"
    assert card.read_text(encoding="utf-8").startswith("---\npretty_name:")
    log = corpora / "build.log"  # the crontab line's
    assert log.is_file() and "Traceback" not in log.read_text(encoding="utf-8")
    nightly = [result for text, result in outputs.items() if text.startswith("ExecStart=")]
    assert nightly and all(r.stdout == r.stderr == "" for r in nightly), "-q, nothing changed: it must print nothing"
    status = subprocess.run(["git", "-C", str(clone), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout.strip() == "", f"commands left untracked files that are not ignored:\n{status.stdout}"


def test_every_benchmark_the_docs_show_is_there_and_takes_its_options(clone):
    lines = unique([line for line in all_code_lines() if kind(line) == "bench"])
    scripts = {}
    for line in lines:
        words = shlex.split(line.text)
        scripts.setdefault(words[1], set()).update(re.findall(r"(?<![\w-])--[a-z][\w-]*", line.text))
    assert len(scripts) >= 7, scripts
    env = dict(os.environ, PYTHONPATH=str(clone), PYTHONWARNINGS="ignore")

    def help_of(script: str) -> subprocess.CompletedProcess:
        assert (clone / script).is_file(), f"{script} is shown in the docs but not in a fresh clone"
        return subprocess.run([sys.executable, script, "--help"], cwd=clone, env=env, capture_output=True, text=True,
                              timeout=300)

    with ThreadPoolExecutor(max_workers=2) as pool:  # each imports torch: a few seconds of one core
        helps = dict(zip(scripts, pool.map(help_of, scripts)))
    for script, result in helps.items():
        assert result.returncode == 0, (script, result.stderr[-2000:])
        missing = [option for option in scripts[script] if option not in result.stdout]
        assert not missing, f"{script} --help does not list {missing}:\n{result.stdout}"
