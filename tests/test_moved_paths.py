"""What was written before the modules moved into packages still works: configs, saved run configs, imports.

Run configs name classes by module path (``class_path: trainer.callbacks.PrintLosses``), and every
run saves its resolved config beside its logs with the paths of the day (``plugins: trainer.checkpoint.
AtomicCheckpointIO``). Scripts import ``trainer.generate`` or ``from trainer.data import
CorpusDataModule``. Each of these is exercised here as a user who wrote it before the move would.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from test_trainer import REPO, run_cli, write_config

from trainer import _moved

OLD_CLASS_PATHS = {
    "trainer.callbacks.PrintLosses": "trainer.training.callbacks",
    "trainer.callbacks.StopOnSignal": "trainer.training.callbacks",
    "trainer.schedule.WarmupCosine": "trainer.training.schedule",
    "trainer.model.LSTMLanguageModel": "trainer.training.module",
    "trainer.gpt.GPTLanguageModel": "trainer.training.module",
    "trainer.gpt.GPT": "trainer.models.gpt",
    "trainer.data.CorpusDataModule": "trainer.data.datamodule",
    "trainer.checkpoint.AtomicCheckpointIO": "trainer.checkpoint",
    "trainer.generate.generate": "trainer.sharing.generate",
    "trainer.tokenizer.CharTokenizer": "trainer.data.tokenizer",
}


@pytest.mark.parametrize("old_path, new_module", sorted(OLD_CLASS_PATHS.items()))
def test_an_old_class_path_is_the_same_object_as_the_new_one(old_path, new_module):
    module, name = old_path.rsplit(".", 1)
    old = getattr(importlib.import_module(module), name)
    assert old is getattr(importlib.import_module(new_module), name)
    assert old.__module__ == new_module  # one module object under two names, not a copy


def test_every_old_module_path_gives_the_module_at_its_new_path():
    for old, new in _moved.MOVED.items():
        module = importlib.import_module(old)
        assert module is importlib.import_module(new), old
        assert module.__name__ == new and module.__spec__.name == new, old


def test_old_paths_load_only_when_asked_for():
    """Installing the alias table imports nothing: ``python -m trainer --help`` pays for none of it."""
    code = ("import sys, trainer; moved = [m for m in sys.modules if m.startswith('trainer.')]; "
            "print(sorted(moved))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['trainer._moved']", result.stdout


def test_an_unknown_old_looking_path_is_still_an_import_error():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("trainer.no_such_module")


def test_a_run_config_written_before_the_move_trains_and_resumes(tiny_corpus, tmp_path):
    """The class paths of a config written (and of a config.yaml saved) before the move, in a real fit."""
    config = write_config(tmp_path / "old.yaml", tiny_corpus, tmp_path / "run", max_steps=4,
                          callbacks="[{class_path: trainer.callbacks.PrintLosses, init_args: {every_n_steps: 1}}]")
    config.write_text(config.read_text() + "lr_scheduler:\n  class_path: trainer.schedule.WarmupCosine\n"
                      "  init_args: {warmup_steps: 1, min_lr: 0.0001}\n", encoding="utf-8")
    result = run_cli("fit", "--config", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    assert sum("train_loss" in line for line in result.stdout.splitlines()) == 4, result.stdout[-2000:]
    saved = next((tmp_path / "run" / "logs").glob("version_*/config.yaml"))
    # the run's saved config names the classes as they were given: it is a config written with old paths too
    old_saved = saved.read_text(encoding="utf-8")
    assert "trainer.callbacks.PrintLosses" in old_saved and "trainer.schedule.WarmupCosine" in old_saved
    resumed = tmp_path / "saved-before.yaml"
    resumed.write_text(old_saved, encoding="utf-8")
    result = run_cli("fit", "--config", str(resumed), "--trainer.max_steps", "6", "--ckpt_path", "last")
    assert result.returncode == 0, result.stderr[-3000:]
    printed = [line for line in result.stdout.splitlines() if "train_loss" in line]
    assert [line.split()[1] for line in printed] == ["5", "6"], result.stdout[-2000:]
