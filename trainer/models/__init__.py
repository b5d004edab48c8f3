"""The models, each in one readable file: ``lstm`` (the LSTM LightningModule every model builds on),
``gpt`` (a causal Transformer, and a pretrained GPT-2 to fine-tune), and ``architectures`` (the
``architecture`` key of a config or checkpoint → the class). May import ``errors`` only; independent
of ``data`` (the vocabulary size reaches a model as a number) and ``training``.
"""
