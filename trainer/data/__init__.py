"""The data a model trains on: a published corpus, its tokenizer, token memmaps, batches.

Owns reading a corpus folder and encoding its splits once into flat token memmaps (``corpus``), the
char and word tokenizers (``tokenizer``) and byte-level BPE (``bpe``), and the LightningDataModule
with carried-state and random-window batches (``datamodule``). May import ``checkpoint`` (a resumed
run keeps its checkpoint's vocabulary) and ``errors``; independent of ``models`` and ``training``.

``trainer.data`` was one module before it became this package; its names still resolve here
(``trainer.data.CorpusDataModule``), loaded on first use so that importing a tokenizer does not load
Lightning.
"""

_DATAMODULE_NAMES = ("CorpusDataModule", "CarriedBatches", "RandomWindows", "MODES", "tokenizer_description")


def __getattr__(name: str):
    if name in _DATAMODULE_NAMES:
        from . import datamodule

        return getattr(datamodule, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
