"""Train LSTM language models on corpora built by ``pipeline``: ``python -m trainer fit --config configs/scifi.yaml``.

Modules, one per part: ``corpus`` (read a published corpus, encode its splits once into token
memmaps), ``tokenizer`` (char and word), ``data`` (carried-state truncated-BPTT batches), ``model``
(the LSTM LightningModule), ``checkpoint`` (atomic checksummed writes, verified reads, the tokenizer
and corpus record of a checkpoint), ``schedule`` (per-step warmup + cosine), ``callbacks`` (stop on
Ctrl-C/SIGTERM with a checkpoint, printed losses), ``generate`` (sampling and its command), ``cli``
(LightningCLI and the table of extra commands). Beside them: ``gpt`` (a causal Transformer, or a
pretrained GPT-2, chosen by ``architecture: gpt``; see ``architectures``) and ``bpe`` (byte-level
BPE tokens).
"""
