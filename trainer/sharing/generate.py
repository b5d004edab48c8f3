"""Text from a trained checkpoint: ``sample()`` yields one token's text at a time; ``generate()`` joins them.

The prompt is read once; after that every new token costs one step of the model with its state
carried (the LSTM's hidden state, or the Transformer's key/value cache), so the cost per token stays
constant however long the text gets.
"""

from __future__ import annotations

import argparse
import inspect
import math
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..checkpoint import load_checkpoint
from ..data.tokenizer import UNK, WORD_PATTERN, CharTokenizer, WordTokenizer, tokenizer_of
from ..errors import CheckpointError, ConfigError, OneLineArgparse
from ..models import architectures
from ..models.gpt import GPTNetwork
from ..models.lstm import LSTMNetwork
from .completions import MIN_TEMPERATURE

EXIT_CODES = "exit codes: 0 ok, 2 a wrong argument or checkpoint (one line says which), 130 interrupted"


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
        if self.temperature < 0 or 0 < self.temperature < MIN_TEMPERATURE:
            raise ConfigError(f"--temperature must be 0 (greedy) or from {MIN_TEMPERATURE:g}, not {self.temperature:g}")
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError(f"--top-k must be 1 or more, not {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ConfigError(f"--top-p must be more than 0 and at most 1, not {self.top_p}")
        if self.repetition_penalty < 1:
            raise ConfigError(f"--repetition-penalty must be 1 or more, not {self.repetition_penalty}")


def load_model(path: Path, device: str = "cpu") -> tuple[LSTMNetwork | GPTNetwork, CharTokenizer | WordTokenizer]:
    """A checkpoint's network and tokenizer, ready to sample from: plain PyTorch, Lightning is never loaded."""
    checkpoint = load_checkpoint(path, map_location=device)
    model_class = architectures.network_class(architectures.architecture_of_checkpoint(checkpoint))
    accepted = set(inspect.signature(model_class.__init__).parameters) - {"self", "vocabulary"}
    hparams = {k: v for k, v in checkpoint["hyper_parameters"].items() if k in accepted}
    tokenizer = tokenizer_of(checkpoint, path)
    try:
        if hasattr(model_class, "from_checkpoint"):  # the Transformer: a pretrained one needs its saved config
            model = model_class.from_checkpoint(checkpoint)
        else:
            model = model_class(**hparams)
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


def stream_decoder(tokenizer) -> Callable[[int, int | None], str]:
    """``decode_next`` for one stream of new tokens (BPE: a character split across tokens comes out whole)."""
    return tokenizer.stream_decoder() if hasattr(tokenizer, "stream_decoder") else tokenizer.decode_next


@torch.no_grad()
def sample(model: LSTMNetwork | GPTNetwork, tokenizer: CharTokenizer | WordTokenizer, prompt: str, length: int,
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
    decode_next, unknown = stream_decoder(tokenizer), getattr(tokenizer, "unknown_id", 0)
    for _ in range(length):
        token = pick(last, config, recent, generator, unknown)
        yield decode_next(token, previous)
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


def unknown_symbols(tokenizer: CharTokenizer | WordTokenizer, text: str) -> list[str]:
    """The characters (or words) of ``text`` that the vocabulary lacks, each once, in order."""
    if tokenizer.kind not in ("char", "word"):  # byte-level BPE: every text is made of known bytes
        return []
    pieces = list(text) if tokenizer.kind == "char" else WORD_PATTERN.findall(text)
    ids = tokenizer.encode(text).tolist()
    return list(dict.fromkeys(piece for piece, i in zip(pieces, ids) if i == 0 and piece != UNK))


def check_text(text: str, option: str) -> None:
    """Text from the command line is Unicode: bytes that were not UTF-8 reach Python as lone surrogates
    (surrogateescape), which no tokenizer can encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        what = f"byte 0x{code - 0xdc00:02x}" if 0xdc80 <= code <= 0xdcff else f"a lone surrogate (U+{code:04X})"
        raise ConfigError(f"{option} is not UTF-8 text ({what} at character {exc.start}); give it in UTF-8 (a "
                          f"terminal or script in a UTF-8 locale, or convert it with iconv -t UTF-8)") from None


def make_parser(prog: str = "python -m trainer generate") -> argparse.ArgumentParser:
    parser = OneLineArgparse(
        prog=prog, description="Write text with a trained checkpoint, streamed to stdout.",
        epilog=f'example:\n  {prog} --ckpt runs/scifi/checkpoints/last.ckpt --prompt "It all began '
               'with" --length 500 --temperature 0.8 --top-k 40 --top-p 0.95 --seed 1\n\n' + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt", type=Path, required=True, metavar="PATH", help="a checkpoint of `trainer fit`")
    parser.add_argument("--prompt", default="", help="text to start from")
    parser.add_argument("--length", type=int, default=500, metavar="N", help="tokens to write (default: 500)")
    parser.add_argument("--temperature", type=float, default=0.8, help="0 is greedy (default: 0.8)")
    parser.add_argument("--top-k", type=int, metavar="K", help="sample among the K most likely tokens")
    parser.add_argument("--top-p", type=float, metavar="P", help="sample among the most likely tokens up to mass P")
    parser.add_argument("--repetition-penalty", type=float, default=1.0, metavar="R",
                        help="above 1, recent tokens are less likely, against loops (default: 1, off)")
    parser.add_argument("--seed", type=int, help="same seed, same text")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="cpu or cuda (default: cuda when available)")
    return parser


def run_generate(argv: list[str], prog: str = "python -m trainer generate") -> int:
    """``python -m trainer generate``: parse, check, then stream the text."""
    args = make_parser(prog).parse_args(argv)
    check_text(args.prompt, "--prompt")
    if args.length < 0:
        raise ConfigError(f"--length must be 0 or more, not {args.length}")
    try:
        device = torch.device(args.device)
    except (RuntimeError, ValueError):
        raise ConfigError(f"--device {args.device!r} is not a device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise ConfigError(f"--device {args.device}: no such CUDA device here; use --device cpu")
    sys.stdout.reconfigure(errors="replace")  # a prompt from argv may hold undecodable bytes
    config = SamplingConfig(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                            repetition_penalty=args.repetition_penalty)
    config.validate()
    model, tokenizer = load_model(args.ckpt, args.device)
    unknown = unknown_symbols(tokenizer, args.prompt)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:20]) + (f" and {len(unknown) - 20} more" if unknown[20:] else "")
        print(f"warning: the prompt has {len(unknown)} {'character' if tokenizer.kind == 'char' else 'word'}"
              f"{'s' if len(unknown) > 1 else ''} the model never saw ({shown}); they are read as <unk>",
              file=sys.stderr)
    sys.stdout.write(args.prompt)
    for piece in sample(model, tokenizer, args.prompt, args.length, config, args.seed):
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0
