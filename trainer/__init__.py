"""Train language models on corpora built by ``pipeline``: ``python -m trainer fit --config configs/scifi.yaml``.

Packages, one job each, listed from the bottom layer up (a package imports only from those below it;
``lint-imports`` checks this, with the contracts in pyproject.toml):

- ``errors`` (the error hierarchy) and ``checkpoint`` (atomic checksummed writes, verified reads,
  the corpus record of a checkpoint): what every part shares.
- ``data/``: reading a published corpus, tokenizers (char, word, byte-level BPE), token memmaps and
  the batches a model trains on (``CorpusDataModule``).
- ``models/``: each model in one readable file (``lstm``, ``gpt`` with a pretrained GPT-2), and
  ``architectures``, which picks one by name.
- ``training/``: what a fit adds around the model: callbacks (stop on a signal with a checkpoint,
  printed losses) and the per-step warmup + cosine schedule.
- ``sharing/``: using what was trained: ``generate``, the OpenAI-style ``serve`` API and its page,
  ``completions``, ``export`` (TorchScript, ONNX, a static page) and the page's assets.
- ``cli``: LightningCLI's ``fit``, ``validate``, ``test`` and the extra commands; it parses and reports.

``data``, ``models`` and ``training`` are independent of each other. Modules that moved keep their
old import paths (``trainer.callbacks``, ``trainer.schedule``...; see ``_moved``), because run configs
name classes by them.
"""

from . import _moved

_moved.install()
