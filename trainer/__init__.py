"""Train LSTM language models on corpora built by ``pipeline``: ``python -m trainer fit --config configs/scifi.yaml``.

Modules, one per part: ``corpus`` (read a published corpus, encode its splits once into token
memmaps), ``tokenizer`` (char and word), ``data`` (carried-state truncated-BPTT batches), ``model``
(the LSTM LightningModule), ``checkpoint`` (atomic writes, safe reads), ``generate`` (sampling),
``cli`` (LightningCLI and ``generate``). Beside them: ``gpt`` (a causal Transformer, or a pretrained
GPT-2, chosen by ``architecture: gpt``; see ``architectures``) and ``bpe`` (byte-level BPE tokens).
"""
