"""Ctrl-C and SIGTERM during a real fit: a checkpoint at the step reached, the resume command, exit 130, exact
resume; a requeued SLURM job resumes by itself."""

from __future__ import annotations

import csv
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_trainer import REPO, TESTS, losses, run_cli, write_config


def version_losses(run: Path, name: str, version: int) -> dict[int, float]:
    with open(run / name / f"version_{version}" / "metrics.csv", newline="") as handle:
        return {int(r["step"]): float(r["train_loss"]) for r in csv.DictReader(handle) if r.get("train_loss")}


@pytest.fixture(scope="module")
def reference(tiny_corpus, tmp_path_factory):
    """The losses of an uninterrupted run of 12 steps."""
    folder = tmp_path_factory.mktemp("whole")
    config = write_config(folder / "whole.yaml", tiny_corpus, folder / "run")
    result = run_cli("fit", "--config", str(config))
    assert result.returncode == 0, result.stderr[-2000:]
    return losses(folder / "run", "logs")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_epoch_saves_a_checkpoint_that_resumes_exactly(tiny_corpus, tmp_path, reference, signum):
    marker = tmp_path / "at-step-6"
    wait = f"[{{class_path: trainer_hooks.WaitForSignalAtStep, init_args: {{step: 6, marker: '{marker}'}}}}]"
    config = write_config(tmp_path / "cut.yaml", tiny_corpus, tmp_path / "run", callbacks=wait)
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{TESTS}", PYTHONWARNINGS="ignore")
    process = subprocess.Popen([sys.executable, "-m", "trainer", "fit", "--config", str(config)], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), process.communicate()[1][-2000:]
        process.send_signal(signum)
        out, err = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    [line] = [x for x in err.splitlines() if x.startswith("error:")]
    name = signal.Signals(signum).name
    assert f"interrupted by {name} at step 7" in line, line
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 7 and checkpoint["carried_state"]["next_batch"] == 7  # mid-epoch
    assert version_losses(tmp_path / "run", "logs", 0) == pytest.approx({s: reference[s] for s in range(7)}, abs=1e-5)

    # the printed command, as printed, resumes the run
    command = shlex.split(line.split("resume exactly with: ", 1)[1])
    assert command[:3] == ["python", "-m", "trainer"] and command[-2:] == ["--ckpt_path", "last"]
    resumed = run_cli(*command[3:])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = version_losses(tmp_path / "run", "logs", 1)
    assert sorted(after) == list(range(7, 12)), after
    for step, loss in after.items():
        assert abs(loss - reference[step]) < 1e-5, (step, loss, reference[step])


def test_a_requeued_slurm_job_resumes_from_its_last_checkpoint_by_itself(tiny_corpus, tmp_path, reference):
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run", max_steps=8)
    assert run_cli("fit", "--config", str(config)).returncode == 0
    again = write_config(tmp_path / "again.yaml", tiny_corpus, tmp_path / "run", name="requeued")
    refused = run_cli("fit", "--config", str(again))
    assert refused.returncode == 2 and "already holds last.ckpt" in refused.stderr
    env = {"SLURM_JOB_ID": "4242", "SLURM_RESTART_COUNT": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        requeued = run_cli("fit", "--config", str(again))
    finally:
        for key, value in old.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    assert requeued.returncode == 0, requeued.stderr[-2000:]
    assert "SLURM requeue 1: resuming from" in requeued.stderr
    after = version_losses(tmp_path / "run", "requeued", 0)
    assert sorted(after) == list(range(8, 12))
    assert all(abs(after[s] - reference[s]) < 1e-5 for s in after), (after, reference)
