"""The Transformer beside the LSTM: a debug fit, exact resume, KV-cache generation, test and generate commands."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import pytest
import torch
from test_trainer import kill_at, losses, run_cli

from trainer.cli import main
from trainer.data.tokenizer import CharTokenizer
from trainer.sharing.generate import SamplingConfig, generate, pick
from trainer.training.module import GPTLanguageModel

REPO = Path(__file__).resolve().parents[1]

GPT_CONFIG = """
seed_everything: 7
architecture: gpt
trainer:
  accelerator: cpu
  devices: 1
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
  callbacks: {callbacks}
checkpoint:
  dirpath: {run}/checkpoints
data:
  corpus: {corpus}
  mode: random
  seq_len: 16
  batch_size: 4
  batches_per_epoch: 100
model:
  block_size: 16
  n_layer: 2
  n_head: 2
  n_embd: 16
  dropout: 0.1
"""


def write_gpt_config(path: Path, corpus: Path, run: Path, *, name: str = "logs", max_steps: int = 12,
                     callbacks: str = "[]") -> Path:
    path.write_text(GPT_CONFIG.format(corpus=corpus, run=run, name=name, max_steps=max_steps, callbacks=callbacks))
    return path


def csv_logger(folder: Path) -> str:
    return json.dumps({"class_path": "pytorch_lightning.loggers.CSVLogger",
                       "init_args": {"save_dir": str(folder), "name": "logs"}})


@pytest.mark.timeout(900)  # several training runs: slow on a loaded 2-core machine, not a hang
def test_the_debug_gpt_config_fits_and_its_checkpoint_generates(tiny_corpus, tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["fit", "--config", str(REPO / "configs" / "debug-gpt.yaml"), "--data.corpus", str(tiny_corpus),
            "--checkpoint.dirpath", str(run / "checkpoints"), "--trainer.logger", csv_logger(run),
            "--trainer.max_steps", "60", "--trainer.log_every_n_steps", "1"]
    assert main(argv) == 0
    trained = losses(run, "logs")
    first, last = sum(trained[s] for s in range(5)) / 5, sum(trained[s] for s in range(55, 60)) / 5
    assert last < first - 0.5, (first, last)  # from about ln(vocab) towards the letters' frequencies
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["gutenberg_lstm"]["architecture"] == "gpt" and checkpoint["global_step"] == 60
    assert checkpoint["carried_state"]["hidden"] is None and "network.position_embedding.weight" in \
        checkpoint["state_dict"]
    capsys.readouterr()
    generate_argv = ["generate", "--ckpt", str(run / "checkpoints" / "last.ckpt"), "--prompt", "The ", "--length",
                     "300", "--seed", "3"]
    assert main(generate_argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("The ") and len(text) == 4 + 300 + 1  # longer than block_size: the cache is rebuilt
    assert main(generate_argv) == 0
    assert capsys.readouterr().out == text


@pytest.mark.timeout(900)  # three training processes: slow on a loaded 2-core machine, not a hang
def test_a_gpt_run_killed_mid_epoch_resumes_with_exactly_the_same_losses(tiny_corpus, tmp_path):
    whole = write_gpt_config(tmp_path / "whole.yaml", tiny_corpus, tmp_path / "whole")
    result = run_cli("fit", "--config", str(whole))
    assert result.returncode == 0, result.stderr[-2000:]
    killed = write_gpt_config(tmp_path / "killed.yaml", tiny_corpus, tmp_path / "cut", name="first",
                              callbacks=kill_at(10))
    assert run_cli("fit", "--config", str(killed)).returncode == -9
    resumed = write_gpt_config(tmp_path / "resumed.yaml", tiny_corpus, tmp_path / "cut", name="second")
    second = run_cli("fit", "--config", str(resumed), "--ckpt_path", "last")
    assert second.returncode == 0, second.stderr[-2000:]
    reference, after = losses(tmp_path / "whole", "logs"), losses(tmp_path / "cut", "second")
    assert sorted(after) == list(range(8, 12)), after  # resumed from the checkpoint of step 8
    for step, loss in after.items():  # random windows and dropout both continue where they stopped
        assert abs(loss - reference[step]) < 1e-5, (step, loss, reference[step])
    assert len(set(round(loss, 4) for loss in after.values())) == 4  # the losses do change from step to step


@pytest.mark.timeout(900)  # several training runs: slow on a loaded 2-core machine, not a hang
def test_test_and_validate_report_bits_per_character_for_a_gpt(tiny_corpus, tmp_path, capsys):
    config = write_gpt_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run", max_steps=8)
    assert main(["fit", "--config", str(config)]) == 0
    for command, metric in (("test", "test_bpc"), ("validate", "val_bpc")):
        capsys.readouterr()
        assert main([command, "--config", str(config), "--ckpt_path", "best"]) == 0
        assert metric in capsys.readouterr().out


def tiny_gpt(block_size: int = 16) -> tuple[GPTLanguageModel, CharTokenizer]:
    torch.manual_seed(0)
    tokenizer = CharTokenizer.build(["abcdefghijklmnopqrstuvwxyz .,\n"])
    model = GPTLanguageModel(vocab_size=tokenizer.vocab_size, block_size=block_size, n_layer=2, n_head=2, n_embd=16,
                             dropout=0.0, vocabulary=tokenizer.to_dict())
    return model.eval(), tokenizer


@torch.no_grad()
def test_kv_cache_logits_equal_a_full_recomputation_at_every_step():
    model, _ = tiny_gpt(block_size=16)
    tokens = torch.randint(1, model.hparams.vocab_size, (2, 16))
    full, _ = model.network(tokens)
    logits, cache = model(tokens[:, :5])  # prompt of 5, then one token at a time
    stepped = [logits]
    for position in range(5, 16):
        logits, cache = model(tokens[:, position:position + 1], cache)
        stepped.append(logits)
    assert torch.allclose(torch.cat(stepped, dim=1), full, atol=1e-5)
    assert cache.length == 16 and cache.rebuilds == 0
    # several new tokens after a cache: the causal mask is offset by what the cache holds
    logits, _ = model(tokens[:, 9:12], model(tokens[:, :9])[1])
    assert torch.allclose(logits, full[:, 9:12], atol=1e-5)


@torch.no_grad()
def test_a_full_window_rebuilds_the_cache_from_its_last_half_and_stays_exact():
    model, _ = tiny_gpt(block_size=8)
    tokens = torch.randint(1, model.hparams.vocab_size, (1, 30))
    logits, cache = model(tokens[:, :8])
    lengths = []
    for position in range(8, 30):
        logits, cache = model(tokens[:, position:position + 1], cache)
        lengths.append(cache.length)
        context = cache.tokens  # what the model now attends to, recomputed from scratch
        assert torch.equal(context[0, -1], tokens[0, position])
        assert torch.equal(context[0], tokens[0, position + 1 - cache.length:position + 1])
        reference, _ = model.network(context)
        assert torch.allclose(logits[:, -1], reference[:, -1], atol=1e-5)
    assert max(lengths) <= 8 and cache.rebuilds >= 4  # constant work per token: never more than a window
    long_prompt, cache = model(tokens)  # a prompt longer than the window keeps its last window
    assert cache.length == 8 and torch.allclose(long_prompt, model.network(tokens[:, -8:])[0], atol=1e-5)


@torch.no_grad()
def test_sampling_with_the_cache_writes_what_full_recomputation_writes():
    model, tokenizer = tiny_gpt(block_size=16)
    config = SamplingConfig(temperature=1.0, top_k=10)
    cached = generate(model, tokenizer, "it all began", 40, config, seed=5)
    # the reference recomputes every position from the start (within the window) at every token
    generator = torch.Generator().manual_seed(5)
    ids = tokenizer.encode("it all began").tolist()
    recent = deque(ids[-config.repetition_window:], maxlen=config.repetition_window)
    written = []
    context = list(ids)
    cache_length = len(ids)
    for _ in range(40):
        logits, _ = model.network(torch.tensor([context[-cache_length:]]))
        token = pick(logits[0, -1], config, recent, generator)
        written.append(token)
        recent.append(token)
        context.append(token)
        cache_length = cache_length + 1 if cache_length < 16 else 16 // 2  # a full window keeps its last half
    assert cached == tokenizer.decode(written)


@pytest.mark.timeout(900)  # several training runs: slow on a loaded 2-core machine, not a hang
def test_print_config_and_start_of_training_work_for_the_gpt_configs(tiny_corpus, tmp_path, capsys):
    for name in ("debug-gpt", "scifi-gpt"):
        with pytest.raises(SystemExit) as done:
            main(["fit", "--config", str(REPO / "configs" / f"{name}.yaml"), "--print_config"])
        assert done.value.code == 0
        printed = capsys.readouterr().out
        assert "architecture: gpt" in printed and "n_embd:" in printed and "hidden_size" not in printed
    result = run_cli("fit", "--config", str(REPO / "configs" / "scifi-gpt.yaml"), "--data.corpus", str(tiny_corpus),
                     "--data.seq_len", "8", "--data.batch_size", "2", "--trainer.max_steps", "2",
                     "--trainer.limit_val_batches", "1", "--trainer.accelerator", "cpu",
                     "--trainer.logger", csv_logger(tmp_path / "logs"), "--checkpoint.dirpath", str(tmp_path / "ck"),
                     "--lr_scheduler.init_args.warmup_steps", "1")
    assert result.returncode == 0, result.stderr[-1500:]
    assert (tmp_path / "ck" / "last.ckpt").is_file()


def test_gpt_config_mistakes_are_one_line_errors(tiny_corpus, tmp_path, capsys):
    config = write_gpt_config(tmp_path / "fit.yaml", tiny_corpus, tmp_path / "run")
    for argv, message in ((["--model.n_embd", "15"], "model.n_embd 15 is not a multiple of model.n_head 2"),
                          (["--data.seq_len", "32"], "data.seq_len 32 is longer than the model's context (16"),
                          (["--architecture", "rnn"], "architecture 'rnn': use one of lstm, gpt")):
        assert main(["fit", "--config", str(config), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
