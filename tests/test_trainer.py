"""The trainer end to end with real Lightning runs on CPU: fit, resume exactly, NaN safety, test, generate."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from trainer.cli import main

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

CONFIG = """
seed_everything: 7
trainer:
  accelerator: cpu
  devices: {devices}
  strategy: {strategy}
  max_steps: {max_steps}
  val_check_interval: 4
  limit_val_batches: 2
  num_sanity_val_steps: 0
  log_every_n_steps: 1
  enable_progress_bar: false
  enable_model_summary: false
  logger:
    - class_path: pytorch_lightning.loggers.CSVLogger
      init_args: {{save_dir: {run}, name: {name}}}
    - class_path: pytorch_lightning.loggers.TensorBoardLogger
      init_args: {{save_dir: {run}, name: tb-{name}}}
  callbacks: {callbacks}
checkpoint:
  dirpath: {run}/checkpoints
data:
  corpus: {corpus}
  seq_len: 16
  batch_size: 4
model:
  embedding_size: 16
  hidden_size: 32
  num_layers: 2
  dropout: 0.1
"""


def write_config(path: Path, corpus: Path, run: Path, *, name: str = "logs", max_steps: int = 12, devices: int = 1,
                 strategy: str = "auto", callbacks: str = "[]") -> Path:
    path.write_text(CONFIG.format(corpus=corpus, run=run, name=name, max_steps=max_steps, devices=devices,
                                  strategy=strategy, callbacks=callbacks))
    return path


def kill_at(step: int) -> str:
    return f"[{{class_path: trainer_hooks.KillAtStep, init_args: {{step: {step}}}}}]"


def run_cli(*argv: str, timeout: int = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{TESTS}", PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "trainer", *argv], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def losses(run: Path, name: str) -> dict[int, float]:
    rows = {}
    for metrics in sorted((run / name).glob("version_*/metrics.csv")):
        with open(metrics, newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("train_loss"):
                    rows[int(row["step"])] = float(row["train_loss"])
    return rows


def test_fit_writes_checkpoints_and_logs_every_metric(tiny_corpus, tmp_path, capsys):
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run")
    assert main(["fit", "--config", str(config)]) == 0
    checkpoints = tmp_path / "run" / "checkpoints"
    assert (checkpoints / "last.ckpt").is_file() and list(checkpoints.glob("best-step=*.ckpt"))
    assert not list(checkpoints.glob("*.part"))
    [metrics] = (tmp_path / "run" / "logs").glob("version_*/metrics.csv")
    rows = list(csv.DictReader(open(metrics)))
    header = set(rows[0])
    assert {"train_loss", "train_bpc", "train_ppl", "train_acc", "train_tokens_per_s",
            "val_loss", "val_bpc", "val_ppl", "val_acc"} <= header
    val = [float(r["val_loss"]) for r in rows if r["val_loss"]]
    assert len(val) == 3 and all(v == v for v in val)  # steps 4, 8, 12; no NaN
    first = next(r for r in rows if r["train_loss"])
    assert abs(float(first["train_bpc"]) - float(first["train_loss"]) / 0.6931471805599453) < 1e-4
    assert list((tmp_path / "run" / "tb-logs").glob("version_*/events.out.tfevents.*"))
    checkpoint = torch.load(checkpoints / "last.ckpt", weights_only=True)
    assert checkpoint["vocabulary"]["kind"] == "char" and checkpoint["global_step"] == 12
    assert checkpoint["carried_state"]["hidden"].shape == (1, 2, 2, 4, 32)  # ranks, h/c, layers, rows, width


def test_a_run_killed_mid_epoch_resumes_with_exactly_the_same_losses(tiny_corpus, tmp_path):
    whole = write_config(tmp_path / "whole.yaml", tiny_corpus, tmp_path / "whole")
    assert run_cli("fit", "--config", str(whole)).returncode == 0
    killed = write_config(tmp_path / "killed.yaml", tiny_corpus, tmp_path / "cut", name="first", callbacks=kill_at(10))
    first = run_cli("fit", "--config", str(killed))
    assert first.returncode == -9, first.stderr[-2000:]
    resumed = write_config(tmp_path / "resumed.yaml", tiny_corpus, tmp_path / "cut", name="second")
    second = run_cli("fit", "--config", str(resumed), "--ckpt_path", "last")
    assert second.returncode == 0, second.stderr[-2000:]
    reference, after = losses(tmp_path / "whole", "logs"), losses(tmp_path / "cut", "second")
    assert sorted(after) == list(range(8, 12)), after  # resumed from the checkpoint of step 8
    for step, loss in after.items():
        assert abs(loss - reference[step]) < 1e-5, (step, loss, reference[step])
    before = losses(tmp_path / "cut", "first")
    assert all(abs(before[s] - reference[s]) < 1e-5 for s in before)


def test_two_ddp_processes_train_disjoint_rows_and_resume_exactly(tiny_corpus, tmp_path):
    ddp = {"devices": 2, "strategy": "ddp"}
    whole = write_config(tmp_path / "whole.yaml", tiny_corpus, tmp_path / "whole", max_steps=10, **ddp)
    result = run_cli("fit", "--config", str(whole), timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    killed = write_config(tmp_path / "killed.yaml", tiny_corpus, tmp_path / "cut", name="first", max_steps=10,
                          callbacks=kill_at(6), **ddp)
    assert run_cli("fit", "--config", str(killed), timeout=400).returncode != 0
    checkpoint = torch.load(tmp_path / "cut" / "checkpoints" / "last.ckpt", weights_only=True)
    state = checkpoint["carried_state"]
    assert state["world_size"] == 2 and state["next_batch"] == 4 and checkpoint["global_step"] == 4
    hidden = state["hidden"]
    assert hidden.shape == (2, 2, 2, 4, 32) and not torch.equal(hidden[0], hidden[1])  # each rank its own rows
    resumed = write_config(tmp_path / "resumed.yaml", tiny_corpus, tmp_path / "cut", name="second", max_steps=10,
                           **ddp)
    second = run_cli("fit", "--config", str(resumed), "--ckpt_path", "last", timeout=400)
    assert second.returncode == 0, second.stderr[-3000:]
    reference, after = losses(tmp_path / "whole", "logs"), losses(tmp_path / "cut", "second")
    assert sorted(after) == list(range(4, 10)), after
    for step, loss in after.items():
        assert abs(loss - reference[step]) < 1e-5, (step, loss, reference[step])


def test_a_nan_loss_stops_training_with_one_line_and_the_last_checkpoint_stays_good(tiny_corpus, tmp_path):
    poison = "[{class_path: trainer_hooks.PoisonAtStep, init_args: {step: 9}}]"
    config = write_config(tmp_path / "nan.yaml", tiny_corpus, tmp_path / "run", callbacks=poison)
    result = run_cli("fit", "--config", str(config))
    assert result.returncode == 1
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "the loss became nan at step 10" in error[0] and "fit --ckpt_path last" in error[0]
    assert "Traceback" not in result.stderr
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 8
    assert all(torch.isfinite(t).all() for t in checkpoint["state_dict"].values())


def test_test_with_the_best_checkpoint_reports_loss_and_bits_per_character(tiny_corpus, tmp_path):
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run", max_steps=8)
    assert run_cli("fit", "--config", str(config)).returncode == 0
    result = run_cli("test", "--config", str(config), "--ckpt_path", "best")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test_bpc" in result.stdout and "test_loss" in result.stdout
    assert "best-step=8.ckpt" in result.stdout + result.stderr
    best = tmp_path / "run" / "checkpoints" / "best.ckpt"  # the stable name generate, serve and export are given
    assert best.is_symlink() and best.resolve() == (tmp_path / "run" / "checkpoints" / "best-step=8.ckpt").resolve()


@pytest.mark.parametrize("argv, message", [
    (["--model.hiden_size", "3"], "hiden_size"),
    (["--data.corpus", "/nonexistent/corpus"], "data.corpus /nonexistent/corpus: no corpus there"),
    (["--data.tokenizer", "unigram"], "data.tokenizer 'unigram': use 'char', 'word' or 'bpe'"),
])
def test_config_mistakes_are_one_line_errors(tiny_corpus, tmp_path, capsys, argv, message):
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run")
    code = main(["fit", "--config", str(config), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_a_corpus_without_a_validation_split_is_named(tiny_corpus, tmp_path, capsys):
    import json
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus / "current", corpus, ignore=shutil.ignore_patterns("tokens"))
    manifest = json.loads((corpus / "manifest.json").read_text())
    manifest["splits"]["val"]["books"] = 0
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    config = write_config(tmp_path / "fit.yaml", corpus, tmp_path / "run")
    assert main(["fit", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: data.corpus ") and "has no val split" in err and len(err.splitlines()) == 1


def test_print_config_works_for_every_shipped_config(capsys):
    for name in ("debug", "scifi", "scifi-cpu"):
        with pytest.raises(SystemExit) as done:
            main(["fit", "--config", str(REPO / "configs" / f"{name}.yaml"), "--print_config"])
        assert done.value.code == 0
        printed = capsys.readouterr().out
        assert "corpus: corpora/science-fiction" in printed and "optimizer:" in printed


def test_resuming_from_a_corrupt_checkpoint_is_one_line(tiny_corpus, tmp_path, capsys):
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run")
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "last.ckpt").write_bytes(b"PK\x03\x04 half a zip")
    assert main(["fit", "--config", str(config), "--ckpt_path", "last"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "last.ckpt is not a readable checkpoint" in err[0]
    assert main(["fit", "--config", str(config), "--ckpt_path", str(tmp_path / "missing.ckpt")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err


def test_every_shipped_config_starts_training(tiny_corpus, tmp_path):
    for name in ("debug", "scifi", "scifi-cpu"):
        result = run_cli("fit", "--config", str(REPO / "configs" / f"{name}.yaml"), "--data.corpus", str(tiny_corpus),
                         "--data.seq_len", "8", "--data.batch_size", "2", "--trainer.max_steps", "2",
                         "--trainer.limit_val_batches", "1", "--trainer.accelerator", "cpu",
                         "--trainer.logger", json.dumps({"class_path": "pytorch_lightning.loggers.CSVLogger",
                                                         "init_args": {"save_dir": str(tmp_path / "logs")}}),
                         "--checkpoint.dirpath", str(tmp_path / name),
                         *(["--lr_scheduler.init_args.warmup_steps", "1"] if name == "scifi" else []))
        assert result.returncode == 0, (name, result.stderr[-1500:])
        assert (tmp_path / name / "last.ckpt").is_file()


def test_a_fresh_fit_refuses_to_mix_with_an_earlier_runs_checkpoints(tiny_corpus, tmp_path, capsys):
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run", max_steps=4)
    assert main(["fit", "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["fit", "--config", str(config)]) == 2
    assert "already holds last.ckpt of an earlier run" in capsys.readouterr().err


def test_a_resume_from_the_end_of_an_epoch_is_exact_too(tiny_corpus, tmp_path):
    # 8 batches an epoch: the checkpoint of step 8 is written at the end of epoch 0
    extra = ["--trainer.limit_train_batches", "8", "--trainer.val_check_interval", "1.0"]
    whole = write_config(tmp_path / "whole.yaml", tiny_corpus, tmp_path / "whole")
    assert run_cli("fit", "--config", str(whole), *extra).returncode == 0
    killed = write_config(tmp_path / "killed.yaml", tiny_corpus, tmp_path / "cut", name="first", callbacks=kill_at(10))
    assert run_cli("fit", "--config", str(killed), *extra).returncode == -9
    resumed = write_config(tmp_path / "resumed.yaml", tiny_corpus, tmp_path / "cut", name="second")
    assert run_cli("fit", "--config", str(resumed), "--ckpt_path", "last", *extra).returncode == 0
    # compared in order: Lightning labels the steps after an end-of-epoch resume one higher
    after = losses(tmp_path / "cut", "second")
    reference = losses(tmp_path / "whole", "logs")
    resumed_losses = [after[s] for s in sorted(after)]
    whole_losses = [reference[s] for s in sorted(reference)][-4:]
    assert len(resumed_losses) == 4
    assert all(abs(a - b) < 1e-5 for a, b in zip(resumed_losses, whole_losses)), (resumed_losses, whole_losses)


def test_the_debug_config_runs_twice_as_written(tiny_corpus, tmp_path):
    """README's smoke test, run again as a user would: the second fit starts afresh instead of refusing."""
    (tmp_path / "configs").mkdir()
    shutil.copy(REPO / "configs" / "debug.yaml", tmp_path / "configs" / "debug.yaml")
    (tmp_path / "corpora").mkdir()
    (tmp_path / "corpora" / "science-fiction").symlink_to(tiny_corpus)
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONWARNINGS="ignore")
    runs = []
    for _ in range(2):
        runs.append(subprocess.run([sys.executable, "-m", "trainer", "fit", "--config", "configs/debug.yaml"],
                                   cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600))
        assert runs[-1].returncode == 0, runs[-1].stderr[-2000:]
    assert "fresh_start: removed the" in runs[1].stderr and "runs/debug/checkpoints" in runs[1].stderr
    # the second run trained from step 0 again: the same seed, the same first losses
    first_losses = [[line for line in run.stdout.splitlines() if "train_loss" in line][0] for run in runs]
    assert first_losses[0] == first_losses[1], first_losses
    assert (tmp_path / "runs" / "debug" / "checkpoints" / "last.ckpt").is_file()
    assert len(list((tmp_path / "runs" / "debug" / "checkpoints").glob("best-*.ckpt"))) == 1
    assert "checkpoints: runs/debug/checkpoints (last.ckpt, best.ckpt -> best-step=" in runs[1].stdout, runs[1].stdout
