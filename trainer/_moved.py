"""Old module paths of the trainer, kept importable after the modules moved into packages.

Run configs name classes by their module path (``class_path: trainer.callbacks.PrintLosses``,
``trainer.schedule.WarmupCosine``), and so does every ``config.yaml`` a run saved beside its logs;
scripts import ``trainer.generate``. Those paths are a stable interface: importing an old path
gives the very module at its new path (one module object, so ``isinstance`` and class identity
hold), and nothing is imported until an old path is asked for.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

MOVED = {
    "trainer.architectures": "trainer.models.architectures",
    "trainer.model": "trainer.training.module",  # LSTMLanguageModel; the network alone is models.lstm
    "trainer.gpt": "trainer.training.module",  # GPTLanguageModel, and GPT, KVCache, PretrainedGPT2 re-exported
    "trainer.corpus": "trainer.data.corpus",
    "trainer.tokenizer": "trainer.data.tokenizer",
    "trainer.bpe": "trainer.data.bpe",
    "trainer.callbacks": "trainer.training.callbacks",
    "trainer.schedule": "trainer.training.schedule",
    "trainer.generate": "trainer.sharing.generate",
    "trainer.serve": "trainer.sharing.serve",
    "trainer.completions": "trainer.sharing.completions",
    "trainer.export": "trainer.sharing.export",
    "trainer.webassets": "trainer.sharing.webassets",
    "trainer.batching": "trainer.sharing.batching",
}
"""Old path → new path. ``trainer.data`` is a package now; it answers its old names itself."""


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path and loads it as the module at the new one."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec] = {}

    def create_module(self, spec):
        module = importlib.import_module(MOVED[spec.name])
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module) -> None:
        # already executed under its new name; the import system has just given it the old path's spec
        module.__spec__ = self._specs.pop(module.__spec__.name, module.__spec__)


def install() -> None:
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
