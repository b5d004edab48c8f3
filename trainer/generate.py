"""Text from a trained checkpoint: ``sample()`` yields one token's text at a time; ``generate()`` joins them.

The prompt is read once; after that every new token costs one LSTM step with the hidden state
carried, so the cost per character is constant however long the text gets.
"""

from __future__ import annotations

import inspect
import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

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
    accepted = set(inspect.signature(LSTMLanguageModel.__init__).parameters) - {"self", "vocabulary"}
    hparams = {k: v for k, v in checkpoint["hyper_parameters"].items() if k in accepted}
    try:
        tokenizer = tokenizer_from_dict(checkpoint.get("vocabulary"))
        model = LSTMLanguageModel(**hparams, vocabulary=checkpoint["vocabulary"])
        model.load_state_dict(checkpoint["state_dict"])
    except (TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: its model does not load ({str(exc).splitlines()[0][:160]})") from None
    return model.to(device).eval(), tokenizer


def pick(logits: torch.Tensor, config: SamplingConfig, recent: deque, generator: torch.Generator | None) -> int:
    logits = logits.float().clone()
    if config.repetition_penalty != 1.0 and recent:
        seen = torch.tensor(sorted(set(recent)), device=logits.device)
        values = logits[seen]
        logits[seen] = torch.where(values > 0, values / config.repetition_penalty, values * config.repetition_penalty)
    logits[0] = -float("inf")  # never write the unknown symbol
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


def prompt_ids(tokenizer: CharTokenizer | WordTokenizer, prompt: str) -> list[int]:
    """The prompt's token ids; an empty prompt starts as at a line break (or <unk> when the vocabulary has none)."""
    return tokenizer.encode(prompt).tolist() or (tokenizer.encode("\n").tolist() or [0])[:1]


class StopSequences:
    """Cuts streamed text at the first of the stop strings; text that could still be the start of
    one is held back until the next piece shows whether it is."""

    def __init__(self, stops: Sequence[str] = ()):
        self.stops = [stop for stop in stops if stop]
        self.pending = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """The text that can be given out now; sets ``stopped`` once a stop string is seen."""
        if not self.stops:
            return piece
        self.pending += piece
        found = [at for at in (self.pending.find(stop) for stop in self.stops) if at >= 0]
        if found:
            self.stopped = True
            out, self.pending = self.pending[:min(found)], ""
            return out
        held = max((n for stop in self.stops for n in range(min(len(stop) - 1, len(self.pending)), 0, -1)
                    if self.pending.endswith(stop[:n])), default=0)
        out, self.pending = self.pending[:len(self.pending) - held], self.pending[len(self.pending) - held:]
        return out

    def flush(self) -> str:
        """What was held back, at the end of the text."""
        out, self.pending = self.pending, ""
        return out


@torch.no_grad()
def sample(model: LSTMLanguageModel, tokenizer: CharTokenizer | WordTokenizer, prompt: str, length: int,
           config: SamplingConfig | None = None, seed: int | None = None) -> Iterator[str]:
    """The text of each of ``length`` new tokens after ``prompt``, one at a time."""
    config = config or SamplingConfig()
    config.validate()
    generator = torch.Generator(device=model.device).manual_seed(seed) if seed is not None else None
    ids = prompt_ids(tokenizer, prompt)
    logits, hidden = model(torch.tensor([ids], device=model.device))
    last = logits[0, -1]
    recent = deque(ids[-config.repetition_window:], maxlen=config.repetition_window)
    previous = ids[-1]
    for _ in range(length):
        token = pick(last, config, recent, generator)
        yield tokenizer.decode_next(token, previous)
        recent.append(token)
        previous = token
        logits, hidden = model(torch.tensor([[token]], device=model.device), hidden)
        last = logits[0, -1]


def generate(model, tokenizer, prompt: str, length: int, config: SamplingConfig | None = None,
             seed: int | None = None, stop: Sequence[str] = ()) -> str:
    """Up to ``length`` tokens of text after ``prompt``, ended before the first of ``stop`` if one appears."""
    cut = StopSequences(stop)
    out = []
    for piece in sample(model, tokenizer, prompt, length, config, seed):
        out.append(cut.feed(piece))
        if cut.stopped:
            return "".join(out)
    return "".join(out) + cut.flush()
