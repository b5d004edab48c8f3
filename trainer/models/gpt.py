"""A causal Transformer language model, nanoGPT-shaped, beside the LSTM: ``architecture: gpt`` in a config.

Token and learned position embeddings → pre-norm blocks (LayerNorm → causal self-attention with
``scaled_dot_product_attention``, LayerNorm → MLP, each added back to the residual stream) → final
LayerNorm → a head tied to the token embedding. Dropout on the embeddings, the attention weights and
each residual branch.

``model.pretrained: /path/to/gpt2`` swaps the network for a Hugging Face GPT-2 loaded from that local
folder (``transformers`` is an optional extra); everything else (steps, metrics, checkpoints, exact
resume, generation) is the same.

The network is plain PyTorch (``GPTNetwork``); the training steps, metrics, NaN guard and
exact-resume hooks are the LSTM module's (``training.module.GPTLanguageModel``): a Transformer simply
carries no state across batches. Generation keeps a key/value cache, so each new token costs
one position of attention; when the context reaches ``block_size``, the cache is rebuilt from the last
half window, so the cost per token stays constant on average however long the text gets.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, install_hint
from .memory import require_memory

ARCHITECTURE = "gpt"


@dataclass
class KVCache:
    """What generation carries from one call to the next: the tokens seen and each layer's keys and values."""

    tokens: torch.Tensor
    """(batch, positions) ids of the positions in the cache, to rebuild it when the window is full."""
    layers: object = None
    """Our network: a list of (keys, values) per layer; GPT-2: the library's own cache object."""
    rebuilds: int = field(default=0)
    """How often the window was full and the cache rebuilt from its last half (for tests and curiosity)."""

    @property
    def length(self) -> int:
        return self.tokens.shape[1]


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool):
        super().__init__()
        self.n_head, self.dropout = n_head, dropout
        self.qkv = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None):
        batch, new, width = x.shape
        q, k, v = (t.view(batch, new, self.n_head, width // self.n_head).transpose(1, 2)
                   for t in self.qkv(x).split(width, dim=2))
        earlier = 0 if past is None else past[0].shape[2]
        if earlier:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        mask, causal = None, new > 1 and not earlier
        if new > 1 and earlier:  # several new queries after a cache: query i sees keys up to earlier + i
            mask = torch.ones(new, earlier + new, dtype=torch.bool, device=x.device).tril(diagonal=earlier)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(batch, new, width)
        return self.resid_drop(self.proj(y)), (k, v)


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias)
        self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd, bias=bias), nn.GELU(),
                                 nn.Linear(4 * n_embd, n_embd, bias=bias), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor, past):
        attended, present = self.attn(self.ln_1(x), past)
        x = x + attended
        return x + self.mlp(self.ln_2(x)), present


class GPTNetwork(nn.Module):
    """The Transformer (or a pretrained GPT-2) with its key/value cache: what ``generate`` runs, in plain PyTorch.

    ``training.module.GPTLanguageModel`` is this network with the LSTM module's steps; a checkpoint's
    weights (``network.*``) load into either.
    """

    def __init__(self, vocab_size: int = 0, block_size: int = 256, n_layer: int = 4, n_head: int = 4,
                 n_embd: int = 128, dropout: float = 0.1, bias: bool = False, pretrained: str | None = None):
        super().__init__()
        self._build(vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias, pretrained)

    def _build(self, vocab_size: int, block_size: int, n_layer: int, n_head: int, n_embd: int, dropout: float,
               bias: bool, pretrained: str | None) -> None:
        """The network, after checking the sizes (a LightningModule calls this after its own ``__init__``)."""
        if vocab_size < 2:
            raise ConfigError(f"the vocabulary has {vocab_size} symbols; it needs at least 2 (raise data.max_vocab)")
        if not 0 <= dropout < 1:
            raise ConfigError(f"model.dropout must be at least 0 and below 1, not {dropout}")
        self.pretrained = pretrained
        if pretrained is not None:
            self.network = PretrainedGPT2.load(pretrained, vocab_size, dropout)
        else:
            for name, value in (("block_size", block_size), ("n_layer", n_layer), ("n_head", n_head),
                                ("n_embd", n_embd)):
                if value < 1:
                    raise ConfigError(f"model.{name} must be 1 or more, not {value}")
            if n_embd % n_head:
                raise ConfigError(f"model.n_embd {n_embd} is not a multiple of model.n_head {n_head}")
            sizes = (vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias)
            require_memory(lambda: GPT(*sizes), f"vocabulary {vocab_size:,}, model.block_size {block_size:,}, "
                           f"model.n_layer {n_layer:,} and model.n_embd {n_embd:,}",
                           "lower model.n_embd, model.n_layer or model.block_size (or data.max_vocab)")
            self.network = GPT(*sizes)
        self.block_size = self.network.block_size

    @classmethod
    def from_checkpoint(cls, checkpoint: dict, **extra):
        """The model of a checkpoint, without its pretrained folder: the network's config is in the checkpoint."""
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "vocabulary", "pretrained"}
        hparams = {k: v for k, v in checkpoint["hyper_parameters"].items() if k in accepted}
        config = checkpoint["gutenberg_lstm"].get("pretrained_config")
        if config is None:
            return cls(**hparams, **extra)
        model = cls(**{**hparams, "n_layer": 1, "n_head": 1, "n_embd": 1, "block_size": 1}, **extra)
        model.network = PretrainedGPT2.from_config(config)
        model.block_size = model.network.block_size
        model.pretrained = checkpoint["hyper_parameters"].get("pretrained")
        return model

    @property
    def device(self) -> torch.device:
        return self.embedding.weight.device

    @property
    def embedding(self) -> nn.Embedding:
        """The token embedding (its rows are the head's weights too)."""
        return self.network.token_embedding

    def forward(self, tokens: torch.Tensor, cache: KVCache | None = None):
        """Logits for the positions given, and the cache to pass with the next tokens.

        ``cache`` holds what came before ``tokens``. When the two no longer fit in ``block_size``, the
        cache is rebuilt from the last half window (or, for a long prompt, the last full window).
        """
        rebuilds = cache.rebuilds if cache is not None else 0
        if cache is not None and cache.length + tokens.shape[1] > self.block_size:
            keep = min(self.block_size, max(self.block_size // 2, tokens.shape[1], 1))
            tokens = torch.cat([cache.tokens, tokens], dim=1)[:, -keep:]
            cache, rebuilds = None, rebuilds + 1
        if cache is None and tokens.shape[1] > self.block_size:
            tokens = tokens[:, -self.block_size:]
        logits, layers = self.network(tokens, cache.layers if cache is not None else None, use_cache=True)
        seen = tokens if cache is None else torch.cat([cache.tokens, tokens], dim=1)
        return logits, KVCache(seen, layers, rebuilds)


class GPT(nn.Module):
    """The network itself: ``forward(tokens, past) -> (logits, present)`` with per-layer keys and values."""

    def __init__(self, vocab_size: int, block_size: int, n_layer: int, n_head: int, n_embd: int, dropout: float,
                 bias: bool):
        super().__init__()
        self.block_size = block_size
        self.token_embedding = nn.Embedding(vocab_size, n_embd)
        self.position_embedding = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(n_embd, n_head, dropout, bias) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd, bias=bias)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        self.head.weight = self.token_embedding.weight
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():  # GPT-2: residual projections scaled by depth
            if name.endswith("attn.proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, tokens: torch.Tensor, past: list | None = None, use_cache: bool = False):
        earlier = 0 if past is None else past[0][0].shape[2]
        positions = torch.arange(earlier, earlier + tokens.shape[1], device=tokens.device)
        x = self.drop(self.token_embedding(tokens) + self.position_embedding(positions))
        present = []
        for n, block in enumerate(self.blocks):
            x, layer = block(x, past[n] if past is not None else None)
            present.append(layer)
        return self.head(self.ln_f(x)), present if use_cache else None


class PretrainedGPT2(nn.Module):
    """A Hugging Face GPT-2 behind the same ``forward(tokens, past)`` as our own network."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.block_size = model.config.n_positions
        self._cache_argument = "cache" if "cache" in inspect.signature(model.forward).parameters \
            else "past_key_values"

    @staticmethod
    def _transformers():
        try:
            import transformers
        except ImportError:
            raise ConfigError(f"model.pretrained needs the transformers library: {install_hint('gpt2')}") from None
        transformers.logging.set_verbosity_error()
        return transformers

    @classmethod
    def load(cls, folder: str, vocab_size: int, dropout: float) -> PretrainedGPT2:
        transformers = cls._transformers()
        path = Path(folder).expanduser()
        if not (path / "config.json").is_file():
            raise ConfigError(f"model.pretrained {folder}: no Hugging Face model there (no config.json); give a "
                              f"local folder written by save_pretrained, such as a downloaded gpt2")
        try:
            config = transformers.AutoConfig.from_pretrained(path, local_files_only=True)
            if config.model_type != "gpt2":
                raise ConfigError(f"model.pretrained {folder}: a {config.model_type} model; only GPT-2 is supported")
            config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = dropout
            model = transformers.GPT2LMHeadModel.from_pretrained(path, config=config, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"model.pretrained {folder}: {str(exc).splitlines()[0][:200]}") from None
        if vocab_size > model.config.vocab_size:
            raise ConfigError(f"model.pretrained {folder}: the tokenizer has {vocab_size} tokens, the model "
                              f"{model.config.vocab_size}; they do not belong together")
        return cls(model)

    @classmethod
    def from_config(cls, config: dict) -> PretrainedGPT2:
        transformers = cls._transformers()
        return cls(transformers.GPT2LMHeadModel(transformers.GPT2Config.from_dict(config)))

    def config_dict(self) -> dict:
        return self.model.config.to_dict()

    @property
    def token_embedding(self) -> nn.Embedding:
        return self.model.transformer.wte

    def forward(self, tokens: torch.Tensor, past=None, use_cache: bool = False):
        if use_cache and past is None:
            past = self._new_cache()
        out = self.model(input_ids=tokens, use_cache=use_cache, **({self._cache_argument: past} if use_cache else {}))
        present = out.get("cache", out.get("past_key_values")) if use_cache else None
        return out.logits, present

    def _new_cache(self):
        from transformers import DynamicCache
        try:
            return DynamicCache(config=self.model.config)
        except TypeError:
            return DynamicCache()
