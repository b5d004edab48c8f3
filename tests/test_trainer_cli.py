"""The trainer's command line at its seams: checkpoints given to any command, bad input, help, precision, schedules."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tomllib
import torch
import yaml
from test_trainer import REPO, run_cli, write_config

from trainer.cli import main
from trainer.data.tokenizer import CharTokenizer
from trainer.training.schedule import warmup_cosine


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def trained(tiny_corpus, tmp_path_factory):
    """A config and the run it trained (8 steps, best and last checkpoints)."""
    folder = tmp_path_factory.mktemp("trained")
    config = write_config(folder / "fit.yaml", tiny_corpus, folder / "run", max_steps=8)
    result = run_cli("fit", "--config", str(config))
    assert result.returncode == 0, result.stderr[-2000:]
    return config, folder / "run" / "checkpoints"


def validate_loss(capsys, *argv: str) -> tuple[float, str]:
    assert main(["validate", *argv]) == 0
    captured = capsys.readouterr()
    line = next(x for x in captured.out.splitlines() if "val_loss" in x)
    return float(line.replace("│", " ").split()[-1]), captured.err


# -- 2. the checkpoint's vocabulary, whatever the corpus became -----------------------------------------------

def refreshed_copy(corpus: Path, folder: Path) -> Path:
    """The same corpus with another train split (upper-cased: other character frequencies) and another version."""
    source = (corpus / "current").resolve()
    target = folder / "refreshed"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("tokens"))
    manifest = json.loads((target / "manifest.json").read_text())
    train = target / manifest["splits"]["train"]["parquet"]["path"]
    table = pq.read_table(train)
    upper = [text.upper() + " ÆØÅ" for text in table.column("text").to_pylist()]
    pq.write_table(table.set_column(table.schema.get_field_index("text"), "text", pa.array(upper)), train)
    manifest["version"], manifest["content_key"] = "20990101T000000Z", "f" * 64
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def test_a_checkpoint_encodes_with_its_own_vocabulary_after_the_train_split_changed(trained, tiny_corpus, tmp_path,
                                                                                    capsys):
    config, checkpoints = trained
    best = str(next(checkpoints.glob("best-*.ckpt")))
    before, err = validate_loss(capsys, "--config", str(config), "--ckpt_path", best)
    assert "note: the checkpoint was trained on" not in err
    refreshed = refreshed_copy(tiny_corpus, tmp_path)
    own = CharTokenizer.build(pq.read_table(next(refreshed.glob("**/train*.parquet"))).column("text").to_pylist())
    trained_with = torch.load(best, weights_only=True)["vocabulary"]["symbols"]
    assert own.symbols != trained_with  # the corpus's own vocabulary would give other ids
    after, err = validate_loss(capsys, "--config", str(config), "--ckpt_path", best, "--data.corpus", str(refreshed))
    assert after == pytest.approx(before, abs=1e-6)  # same checkpoint, same val split: same loss
    [note] = [line for line in err.splitlines() if line.startswith("note: the checkpoint was trained on")]
    assert "data.corpus is version 20990101T000000Z" in note and "read as <unk>" in note


def test_checkpoints_record_the_corpus_they_were_trained_on(trained, tiny_corpus):
    _, checkpoints = trained
    manifest = json.loads((tiny_corpus / "current" / "manifest.json").read_text())
    record = torch.load(checkpoints / "last.ckpt", weights_only=True)["gutenberg_lstm"]["corpus"]
    assert record["version"] == manifest["version"] and record["content_key"] == manifest["content_key"]


# -- 4. bad checkpoints and configs: one line, exit 2 ---------------------------------------------------------

@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated", "foreign", "flipped byte"])
def test_a_bad_checkpoint_given_to_fit_is_one_line(trained, tmp_path, capsys, kind):
    config, checkpoints = trained
    good = (checkpoints / "last.ckpt").read_bytes()
    bad = tmp_path / "bad.ckpt"
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "garbage":
        bad.write_bytes(bytes(range(256)) * 40)
    elif kind == "truncated":
        bad.write_bytes(good[: len(good) // 2])
    elif kind == "foreign":
        torch.save({"state_dict": {"w": torch.ones(2)}, "epoch": 1}, bad)
    else:
        weights = torch.load(checkpoints / "last.ckpt", weights_only=True)["state_dict"]["lstm.weight_hh_l0"]
        raw = weights.contiguous().view(-1).view(torch.uint8).numpy().tobytes()
        at = good.find(raw[:64])
        assert at > 0
        flipped = bytearray(good)
        flipped[at + 9] ^= 0x10
        bad.write_bytes(flipped)
    assert main(["fit", "--config", str(config), "--ckpt_path", str(bad),
                 "--checkpoint.dirpath", str(tmp_path / "other")]) == 2
    line = one_error_line(capsys)
    expected = {"foreign": "was not written by this trainer", "flipped byte": "does not match the checksum"}
    assert expected.get(kind, "is not a readable checkpoint") in line, line


@pytest.mark.parametrize("yaml_text, override, message", [
    ("data: [1, 2, 3]\n", [], "data"),
    ("optimizer:\n  class_path: torch.optim.AdamW\n  init_args: {lr: -1.0}\n", [],
     "optimizer.init_args.lr must be a positive number, not -1.0"),
    ("", ["--trainer.val_check_interval", "100000", "--trainer.check_val_every_n_epoch", "1"],
     "trainer.val_check_interval is more batches than one epoch has"),
])
def test_config_values_that_cannot_work_are_one_line(tiny_corpus, tmp_path, capsys, yaml_text, override, message):
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run")
    extra = tmp_path / "extra.yaml"
    extra.write_text(yaml_text or "{}\n")
    assert main(["fit", "--config", str(config), "--config", str(extra), *override]) == 2
    assert message in one_error_line(capsys)


# -- 5. no checkpoint, no config ------------------------------------------------------------------------------

def test_test_without_a_checkpoint_uses_the_best_one_and_says_so(trained, capsys):
    config, checkpoints = trained
    assert main(["test", "--config", str(config), "--trainer.limit_test_batches", "2"]) == 0
    captured = capsys.readouterr()
    best = next(checkpoints.glob("best-*.ckpt"))
    assert f"note: no --ckpt_path given: test uses the best checkpoint, {best}" in captured.err
    assert "test_loss" in captured.out


def test_validate_with_nothing_trained_is_refused(tiny_corpus, tmp_path, capsys):
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "untrained")
    assert main(["validate", "--config", str(config)]) == 2
    assert "validate needs a trained checkpoint" in one_error_line(capsys)


def test_fit_without_a_config_or_a_corpus_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["fit"]) == 2
    assert "no corpus: give a config" in one_error_line(capsys)
    assert not (tmp_path / "lightning_logs").exists()


# -- 6. help, console script, precision on a CPU ------------------------------------------------------------

def test_help_names_the_program_and_lists_what_works():
    result = run_cli("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m trainer ")
    assert "{fit,validate,test,generate,serve,export,report}" in result.stdout and "predict" not in result.stdout
    assert "--architecture gpt" in result.stdout  # the Transformer is named where the commands are
    for command in ("generate", "serve", "export", "report"):
        assert run_cli(command, "--help").stdout.startswith(f"usage: python -m trainer {command}")
    wrong = run_cli("predict")
    assert wrong.returncode == 2 and "invalid choice: 'predict'" in wrong.stderr


def test_both_halves_have_a_console_script():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["gutenberg-pipeline"] == "pipeline.cli:main" and scripts["gutenberg-trainer"] == "trainer.cli:main"
    from trainer.cli import main as entry

    assert entry is main


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_mixed_precision_on_a_cpu_warns_and_trains_in_fp32(tiny_corpus, tmp_path, precision):
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run", max_steps=2)
    result = run_cli("fit", "--config", str(config), "--trainer.precision", precision, "--trainer.accelerator", "auto")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the CPU fallback does not apply")
    assert result.returncode == 0, result.stderr[-2000:]
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning: trainer.precision")]
    assert f"trainer.precision {precision} is for GPUs" in warning and "training in 32-true" in warning
    [saved] = (tmp_path / "run" / "logs").glob("version_*/config.yaml")
    assert yaml.safe_load(saved.read_text())["trainer"]["precision"] == "32-true"


# -- 8. per-step warmup + cosine from the config --------------------------------------------------------------

def test_warmup_cosine_from_the_config_sets_the_learning_rate_of_every_step(tiny_corpus, tmp_path):
    schedule = ("[{class_path: pytorch_lightning.callbacks.LearningRateMonitor, "
                "init_args: {logging_interval: step}}]")
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run", max_steps=10, callbacks=schedule)
    extra = tmp_path / "schedule.yaml"
    extra.write_text("optimizer:\n  class_path: torch.optim.AdamW\n  init_args: {lr: 0.01}\n"
                     "lr_scheduler:\n  class_path: trainer.training.schedule.WarmupCosine\n"
                     "  init_args: {warmup_steps: 3, min_lr: 0.001}\n")  # decay_steps: trainer.max_steps
    result = run_cli("fit", "--config", str(config), "--config", str(extra))
    assert result.returncode == 0, result.stderr[-2000:]
    [metrics] = (tmp_path / "run" / "logs").glob("version_*/metrics.csv")
    logged = {int(r["step"]): float(r["lr-AdamW"]) for r in csv.DictReader(open(metrics)) if r.get("lr-AdamW")}
    assert sorted(logged) == list(range(10))
    for step, lr in logged.items():
        assert lr == pytest.approx(warmup_cosine(step, 0.01, 3, 10, 0.001), rel=1e-9), (step, lr)
    assert logged[0] == pytest.approx(0.01 / 3) and logged[2] == pytest.approx(0.01) and logged[9] < 0.0015


def test_the_scifi_config_uses_per_step_warmup_and_cosine(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--config", str(REPO / "configs" / "scifi.yaml"), "--print_config"])
    printed = yaml.safe_load(capsys.readouterr().out)
    scheduler = printed["lr_scheduler"]
    assert scheduler["class_path"] == "trainer.training.schedule.WarmupCosine"
    assert scheduler["init_args"]["warmup_steps"] > 0 and scheduler["init_args"]["min_lr"] > 0
    assert printed["trainer"]["max_steps"] > scheduler["init_args"]["warmup_steps"]


def test_warmup_cosine_values():
    lr = lambda step: warmup_cosine(step, 1.0, warmup_steps=10, decay_steps=110, min_lr=0.1)  # noqa: E731
    assert [lr(s) for s in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert lr(10) == pytest.approx(1.0)
    assert lr(60) == pytest.approx(0.1 + 0.9 * 0.5)  # half way: the mean of lr and min_lr
    assert lr(35) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert lr(110) == lr(500) == pytest.approx(0.1)
    assert all(lr(s) >= lr(s + 1) for s in range(10, 200))


def test_warmup_cosine_refuses_impossible_settings(tiny_corpus, tmp_path, capsys):
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run", max_steps=10)
    extra = tmp_path / "schedule.yaml"
    extra.write_text("lr_scheduler:\n  class_path: trainer.training.schedule.WarmupCosine\n"
                     "  init_args: {warmup_steps: 50, min_lr: 0.0001}\n")
    assert main(["fit", "--config", str(config), "--config", str(extra)]) == 2
    assert "need 0 <= warmup_steps (50) <= decay_steps (10)" in one_error_line(capsys)


# -- 9. the NaN guard checks the loss and the gradient norm together -----------------------------------------

def test_an_infinite_gradient_with_a_finite_loss_stops_before_the_step(tiny_corpus, tmp_path):
    poison = "[{class_path: trainer_hooks.InfiniteGradientAtStep, init_args: {step: 5}}]"
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run", callbacks=poison)
    result = run_cli("fit", "--config", str(config), "--trainer.gradient_clip_val", "0")
    assert result.returncode == 1, result.stderr[-2000:]
    [line] = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert "the gradient norm became inf at step 6" in line, line
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 4


# -- 7. the torch floor: nothing newer than torch 2.1 is needed ---------------------------------------------

def test_fit_without_clipping_needs_no_api_newer_than_the_torch_floor(tiny_corpus, tmp_path, monkeypatch, capsys):
    # torch.nn.utils.get_total_norm came with torch 2.6; the project allows torch>=2.1
    monkeypatch.delattr(torch.nn.utils, "get_total_norm", raising=False)
    config = write_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run", max_steps=4)
    assert main(["fit", "--config", str(config), "--trainer.gradient_clip_val", "0"]) == 0
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 4


def test_the_gradient_norm_is_the_norm_of_all_gradients_together():
    from trainer.training.module import total_norm

    grads = [torch.tensor([3.0, 0.0]), torch.tensor([[4.0]]), torch.zeros(3)]
    assert float(total_norm(grads)) == pytest.approx(5.0)
    assert not torch.isfinite(total_norm([torch.tensor([1.0, float("nan")])]))


# -- 10. generate names what the vocabulary lacks --------------------------------------------------------------

def test_generate_warns_of_prompt_characters_outside_the_vocabulary(trained, capsys):
    _, checkpoints = trained
    assert main(["generate", "--ckpt", str(checkpoints / "last.ckpt"), "--prompt", "It began ☃ in Ω", "--length",
                 "5", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    [warning] = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert "2 characters the model never saw ('☃', 'Ω')" in warning and "<unk>" in warning
    assert captured.out.startswith("It began ☃ in Ω")
    assert main(["generate", "--ckpt", str(checkpoints / "last.ckpt"), "--prompt", "It began", "--length", "5"]) == 0
    assert "warning" not in capsys.readouterr().err
