"""Text from a trained checkpoint: ``sample()`` yields one token's text at a time; ``generate()`` joins them.

The prompt is read once; after that every new token costs one LSTM step with the hidden state
carried, so the cost per character is constant however long the text gets.
"""

from __future__ import annotations

import inspect
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from . import architectures
from .checkpoint import load_checkpoint
from .errors import CheckpointError, ConfigError
from .model import LSTMLanguageModel
from .tokenizer import CharTokenizer, WordTokenizer, tokenizer_from_dict


@dataclass
class SamplingConfig:
    """How each next token is picked."""

    temperature: float = 0.8
    """Softmax temperature; 0 always picks the most likely token (greedy)."""
    top_k: int | None = None
    """Keep only the k most likely tokens."""
    top_p: float | None = None
    """Keep the smallest set of most likely tokens whose probabilities reach p (nucleus sampling)."""
    repetition_penalty: float = 1.0
    """Above 1, tokens among the last ``repetition_window`` are made less likely, against loops."""
    repetition_window: int = 64

    def validate(self) -> None:
        for name, value in (("--temperature", self.temperature), ("--repetition-penalty", self.repetition_penalty),
                            ("--top-p", self.top_p if self.top_p is not None else 1.0)):
            if not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite number, not {value}")
        if self.temperature < 0:
            raise ConfigError(f"--temperature must be 0 or more, not {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError(f"--top-k must be 1 or more, not {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ConfigError(f"--top-p must be more than 0 and at most 1, not {self.top_p}")
        if self.repetition_penalty < 1:
            raise ConfigError(f"--repetition-penalty must be 1 or more, not {self.repetition_penalty}")


def load_model(path: Path, device: str = "cpu") -> tuple[LSTMLanguageModel, CharTokenizer | WordTokenizer]:
    checkpoint = load_checkpoint(path, map_location=device)
    model_class = architectures.model_class(architectures.architecture_of_checkpoint(checkpoint))
    accepted = set(inspect.signature(model_class.__init__).parameters) - {"self", "vocabulary"}
    hparams = {k: v for k, v in checkpoint["hyper_parameters"].items() if k in accepted}
    try:
        tokenizer = tokenizer_from_dict(checkpoint.get("vocabulary"))
        if hasattr(model_class, "from_checkpoint"):  # the Transformer: a pretrained one needs its saved config
            model = model_class.from_checkpoint(checkpoint)
        else:
            model = model_class(**hparams, vocabulary=checkpoint["vocabulary"])
        model.load_state_dict(checkpoint["state_dict"])
    except (TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: its model does not load ({str(exc).splitlines()[0][:160]})") from None
    return model.to(device).eval(), tokenizer


def pick(logits: torch.Tensor, config: SamplingConfig, recent: deque, generator: torch.Generator | None,
         unknown: int | None = 0) -> int:
    logits = logits.float().clone()
    if config.repetition_penalty != 1.0 and recent:
        seen = torch.tensor(sorted(set(recent)), device=logits.device)
        values = logits[seen]
        logits[seen] = torch.where(values > 0, values / config.repetition_penalty, values * config.repetition_penalty)
    if unknown is not None:
        logits[unknown] = -float("inf")  # never write the unknown symbol
    if config.temperature == 0:
        return int(logits.argmax())
    logits = logits / config.temperature
    if config.top_k is not None and config.top_k < logits.numel():
        threshold = torch.topk(logits, config.top_k).values[-1]
        logits[logits < threshold] = -float("inf")
    probs = torch.softmax(logits, dim=-1)
    if config.top_p is not None and config.top_p < 1:
        ordered, order = torch.sort(probs, descending=True)
        cumulative = torch.cumsum(ordered, dim=-1)
        drop = cumulative - ordered > config.top_p  # keep the token that crosses p
        ordered[drop] = 0
        probs = torch.zeros_like(probs).scatter(0, order, ordered)
    return int(torch.multinomial(probs, 1, generator=generator))


@torch.no_grad()
def sample(model: LSTMLanguageModel, tokenizer: CharTokenizer | WordTokenizer, prompt: str, length: int,
           config: SamplingConfig | None = None, seed: int | None = None) -> Iterator[str]:
    """The text of each of ``length`` new tokens after ``prompt``, one at a time."""
    config = config or SamplingConfig()
    config.validate()
    generator = torch.Generator(device=model.device).manual_seed(seed) if seed is not None else None
    # an empty prompt starts as at a line break (or <unk> when the vocabulary has none)
    ids = tokenizer.encode(prompt).tolist() or (tokenizer.encode("\n").tolist() or [0])[:1]
    logits, hidden = model(torch.tensor([ids], device=model.device))
    last = logits[0, -1]
    recent = deque(ids[-config.repetition_window:], maxlen=config.repetition_window)
    previous = ids[-1]
    # BPE: a character may span tokens, so its decoder keeps what it has not written yet
    decode_next = tokenizer.stream_decoder() if hasattr(tokenizer, "stream_decoder") else tokenizer.decode_next
    unknown = getattr(tokenizer, "unknown_id", 0)
    for _ in range(length):
        token = pick(last, config, recent, generator, unknown)
        yield decode_next(token, previous)
        recent.append(token)
        previous = token
        logits, hidden = model(torch.tensor([[token]], device=model.device), hidden)
        last = logits[0, -1]


def generate(model, tokenizer, prompt: str, length: int, config: SamplingConfig | None = None,
             seed: int | None = None) -> str:
    return "".join(sample(model, tokenizer, prompt, length, config, seed))
