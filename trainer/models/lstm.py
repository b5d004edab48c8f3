"""The LSTM language model: embedding → stacked LSTM → linear head (optionally tied to the embedding).

The network alone, in plain PyTorch: ``generate``, ``serve`` and ``export`` load it without Lightning.
What training adds (steps, metrics, exact resume) is ``training.module.LSTMLanguageModel``, which is
this network too, so a checkpoint's weights load into either under the same names.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from .memory import require_memory

ARCHITECTURE = "lstm"


def lstm_layers(vocab_size: int, embedding_size: int, hidden_size: int, num_layers: int, dropout: float,
                tie_weights: bool) -> nn.ModuleDict:
    """The network's layers, in the order of its state_dict, the head tied to the embedding when asked."""
    layers = nn.ModuleDict()
    layers["embedding"] = nn.Embedding(vocab_size, embedding_size)
    layers["drop"] = nn.Dropout(dropout)
    layers["lstm"] = nn.LSTM(embedding_size, hidden_size, num_layers, batch_first=True,
                             dropout=dropout if num_layers > 1 else 0.0)
    if tie_weights and hidden_size != embedding_size:
        layers["projection"] = nn.Linear(hidden_size, embedding_size)
    layers["head"] = nn.Linear(embedding_size if tie_weights else hidden_size, vocab_size)
    if tie_weights:
        layers["head"].weight = layers["embedding"].weight
    return layers


class LSTMNetwork(nn.Module):
    def __init__(self, vocab_size: int = 0, embedding_size: int = 128, hidden_size: int = 256, num_layers: int = 2,
                 dropout: float = 0.2, tie_weights: bool = True):
        super().__init__()
        self._build(vocab_size, embedding_size, hidden_size, num_layers, dropout, tie_weights)

    def _build(self, vocab_size: int, embedding_size: int, hidden_size: int, num_layers: int, dropout: float,
               tie_weights: bool) -> None:
        """The layers, after checking the sizes (a LightningModule calls this after its own ``__init__``)."""
        if vocab_size < 2:
            raise ConfigError(f"the vocabulary has {vocab_size} symbols; it needs at least 2 (raise data.max_vocab)")
        for name, value in (("embedding_size", embedding_size), ("hidden_size", hidden_size),
                            ("num_layers", num_layers)):
            if value < 1:
                raise ConfigError(f"model.{name} must be 1 or more, not {value}")
        if not 0 <= dropout < 1:
            raise ConfigError(f"model.dropout must be at least 0 and below 1, not {dropout}")
        sizes = (vocab_size, embedding_size, hidden_size, num_layers, dropout, tie_weights)
        require_memory(lambda: lstm_layers(*sizes),
                       f"vocabulary {vocab_size:,}, model.embedding_size {embedding_size:,}, model.hidden_size "
                       f"{hidden_size:,} and model.num_layers {num_layers:,}",
                       "lower model.hidden_size, model.num_layers or model.embedding_size (or data.max_vocab)")
        for name, layer in lstm_layers(*sizes).items():
            setattr(self, name, layer)
        if "projection" not in self._modules:
            self.projection = None

    @property
    def device(self) -> torch.device:
        return self.embedding.weight.device

    def forward(self, tokens: torch.Tensor, hidden: tuple[torch.Tensor, torch.Tensor] | None = None):
        """Logits for every position, and the new hidden state (in fp32, whatever the compute precision)."""
        x = self.drop(self.embedding(tokens))
        if hidden is not None and hidden[0].dtype != x.dtype and not torch.is_autocast_enabled():
            hidden = (hidden[0].to(x.dtype), hidden[1].to(x.dtype))
        out, (h, c) = self.lstm(x, hidden)
        out = self.drop(out)
        if self.projection is not None:
            out = self.projection(out)
        return self.head(out), (h.float(), c.float())
