"""Every trainer command README and the docs/ pages show, run from a fresh clone of the repository in a temp folder.

A fresh clone holds only what git tracks: a checkpoint or log committed by mistake (runs/ is
ignored) or a file the commands need but git lacks shows up here, not on a new user's machine.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from doc_commands import all_code_lines, fresh_clone, optional_parts_as_written, unique
from test_gpt2 import write_tiny_gpt2

REPO = Path(__file__).resolve().parents[1]
# The small shipped model sizes keep every command to seconds on a CPU; debug.yaml runs exactly as written.
SHRINK = ["--trainer.max_steps", "4", "--trainer.max_time", "null", "--trainer.val_check_interval", "2",
          "--trainer.limit_val_batches", "2", "--trainer.accelerator", "cpu", "--data.seq_len", "16",
          "--data.batch_size", "4", "--model.embedding_size", "16", "--model.hidden_size", "32",
          "--model.num_layers", "1"]
SHRINK_SCHEDULE = ["--lr_scheduler.init_args.warmup_steps", "1"]  # scifi.yaml's warmup is longer than 4 steps
SHRINK_GPT = [*SHRINK[:-6], "--model.n_layer", "1", "--model.n_head", "2", "--model.n_embd", "16",
              "--model.block_size", "16"]


def doc_trainer_commands() -> list[tuple[str, list[str]]]:
    """The ``python -m trainer ...`` lines of the code blocks (indented) of README and every docs/ page, with
    their continuation lines, each with the page that shows it; a command shown twice is run once, where first shown.

    Optional parts of a synopsis (``[--port 8000]``) are run too, as a user copying them would.
    """
    lines = unique([line for line in all_code_lines(REPO) if line.text.startswith("python -m trainer ")])
    return [(line.page, shlex.split(optional_parts_as_written(line.text), comments=True)) for line in lines]


def check_serve(argv: list[str], clone: Path, env: dict) -> None:
    """Start README's serve command on a free port, ask it for its models, and stop it with Ctrl-C."""
    if "--port" in argv:
        argv[argv.index("--port") + 1] = "0"
    server = subprocess.Popen([sys.executable, "-m", "trainer", *argv], cwd=clone, env=env, text=True,
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        banner = server.stderr.readline()
        match = re.search(r"\(API: (http://\S+/v1)\)", banner)
        assert match, (argv, banner + server.stderr.read() if server.poll() is not None else banner)
        with urllib.request.urlopen(match.group(1) + "/models", timeout=60) as answer:
            models = json.load(answer)
        assert [m["id"] for m in models["data"]] == [Path(argv[argv.index("--ckpt") + 1]).stem]
    finally:
        server.send_signal(signal.SIGINT)
        _, rest = server.communicate(timeout=60)
    assert "Traceback" not in rest, rest[-2000:]


@pytest.mark.timeout(1800)  # some twenty real runs, each starting Python and Lightning
def test_every_trainer_command_of_the_docs_runs_from_a_fresh_clone(tiny_corpus, tmp_path):
    shown = doc_trainer_commands()
    commands = [command for _, command in shown]
    assert len(commands) >= 6 and any("configs/debug.yaml" in c for c in commands), commands
    pages = {page for page, _ in shown}
    assert {"README.md", "docs/training.md", "docs/sharing.md"} <= pages, pages  # the tour and the pages are read
    clone = fresh_clone(tmp_path / "clone")
    assert not (clone / "runs").exists(), "a fresh clone must not hold runs/ (checkpoints and logs are not tracked)"
    shutil.copytree(tiny_corpus, clone / "corpora" / "science-fiction", symlinks=True,
                    ignore=shutil.ignore_patterns("tokens"))
    env = dict(os.environ, PYTHONPATH=str(clone), PYTHONWARNINGS="ignore")
    gpt2 = write_tiny_gpt2(tmp_path / "gpt2")  # the docs' /path/to/gpt2: a local folder, never downloaded
    for page, command in shown:
        argv = [str(gpt2) if arg == "/path/to/gpt2" else arg for arg in command[3:]]
        configured = " ".join(argv)
        if argv[0] in ("fit", "validate", "test") and "configs/debug.yaml" not in configured:
            argv = argv + (SHRINK_GPT if "-gpt.yaml" in configured else SHRINK)
        if argv[0] in ("fit", "validate", "test") and re.search(r"configs/scifi(-gpt)?\.yaml", configured):
            argv = argv + SHRINK_SCHEDULE
        if argv[0] == "serve":
            check_serve(argv, clone, env)
            continue
        result = subprocess.run([sys.executable, "-m", "trainer", *argv], cwd=clone, env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, (page, command, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, (page, command, result.stderr[-2000:])
        if argv[:3] == ["fit", "--config", "configs/debug.yaml"]:
            printed = [line for line in result.stdout.splitlines() if "train_loss" in line or "val_loss" in line]
            assert len(printed) >= 4, result.stdout[-2000:]  # a debug fit shows its losses
        if argv[0] == "generate":
            assert len(result.stdout) > 100
        if argv[0] == "export":
            output = clone / argv[argv.index("-o") + 1]
            assert output.is_file() and output.with_suffix(".vocab.json").is_file(), result.stderr[-2000:]
    assert (clone / "runs" / "debug" / "checkpoints" / "last.ckpt").is_file()
    status = subprocess.run(["git", "-C", str(clone), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout.strip() == "", f"commands left untracked files that are not ignored:\n{status.stdout}"
