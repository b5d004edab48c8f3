"""Many requests, one model: a worker thread steps every active sequence together, one LSTM call per token.

A request becomes one ``Job`` per choice. Jobs wait in a bounded queue; the worker admits them
into free slots (at most ``max_batch``), reads each prompt once, and then every step samples one
token per slot (each with its own seeded generator, through ``generate.pick``) and runs the LSTM
once on the whole batch with the states stacked. A Transformer's key/value caches differ in length
from slot to slot, so it takes one call per slot and step, each with its own cache. A job leaves
its slot when it has its tokens, meets a stop string, runs out of time, or is cancelled because its
client went away; the next queued job takes the slot at the next step. Nothing a job does can stop the worker.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from .generate import SamplingConfig, StopSequences, pick, prompt_ids, stream_decoder

log = logging.getLogger("trainer.sharing.serve")

# (text, finish_reason): finish_reason is None until the last call, then "stop", "length" or "error"
Emit = Callable[[str, str | None], None]


class Overloaded(Exception):
    """The queue is full: the client should retry later."""


@dataclass
class Job:
    prompt: str
    max_tokens: int
    config: SamplingConfig
    emit: Emit
    seed: int | None = None
    stop: Sequence[str] = ()
    deadline: float = float("inf")
    """``time.monotonic()`` after which the job ends with what it has (finish_reason "length")."""
    cancelled: threading.Event = field(default_factory=threading.Event)
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Slot:
    job: Job
    logits: torch.Tensor
    hidden: object
    """The LSTM's (h, c), or the Transformer's KVCache (gpt.py)."""
    generator: torch.Generator
    recent: deque
    previous: int
    cut: StopSequences
    decode: Callable[[int, int | None], str]


class Engine:
    def __init__(self, model, tokenizer, max_batch: int = 16, max_queue: int = 64):
        self.model, self.tokenizer = model, tokenizer
        self.unknown = getattr(tokenizer, "unknown_id", 0)  # the id never written (None: every id is a token)
        self.max_batch, self.max_queue = max_batch, max_queue
        self._queue: queue.Queue[Job] = queue.Queue()
        self._room = threading.Lock()
        self._stopping = threading.Event()
        self.active = 0
        self.tokens_generated = 0
        self._thread = threading.Thread(target=self._run, name="generation", daemon=True)
        self._thread.start()

    def submit(self, jobs: list[Job]) -> None:
        """Queue all of ``jobs`` or none of them (Overloaded)."""
        with self._room:
            if self._queue.qsize() + len(jobs) > self.max_queue:
                raise Overloaded(f"{self._queue.qsize()} requests are waiting and {self.active} generating")
            for job in jobs:
                self._queue.put(job)

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    # -- the worker ------------------------------------------------------------------------------------

    def _run(self) -> None:
        slots: list[Slot] = []
        while not self._stopping.is_set():
            try:
                self._admit(slots)
                self.active = len(slots)
                if slots:
                    slots = self._step(slots)
            except Exception:  # a bug must not end the service: fail the jobs in hand, keep serving
                log.exception("generation step failed; its requests end with finish_reason 'error'")
                for slot in slots:
                    self._finish(slot.job, "", "error")
                slots = []

    def _admit(self, slots: list[Slot]) -> None:
        while len(slots) < self.max_batch:
            try:
                job = self._queue.get(timeout=0.2) if not slots else self._queue.get_nowait()
            except queue.Empty:
                return
            if job.cancelled.is_set():
                continue
            if job.max_tokens == 0 or time.monotonic() > job.deadline:
                self._finish(job, "", "length")
                continue
            try:
                slots.append(self._prefill(job))
            except Exception:
                log.exception("reading a prompt failed")
                self._finish(job, "", "error")

    @torch.no_grad()
    def _prefill(self, job: Job) -> Slot:
        ids = prompt_ids(self.tokenizer, job.prompt)
        job.prompt_tokens = len(ids)
        logits, hidden = self.model(torch.tensor([ids], device=self.model.device))
        generator = torch.Generator(device=self.model.device)
        if job.seed is not None:
            generator.manual_seed(job.seed)
        else:
            generator.seed()
        window = job.config.repetition_window
        return Slot(job, logits[0, -1], hidden, generator, deque(ids[-window:], maxlen=window), ids[-1],
                    StopSequences(job.stop), stream_decoder(self.tokenizer))

    @torch.no_grad()
    def _step(self, slots: list[Slot]) -> list[Slot]:
        now = time.monotonic()
        going, tokens = [], []
        for slot in slots:
            job = slot.job
            if job.cancelled.is_set():
                continue
            token = pick(slot.logits, job.config, slot.recent, slot.generator, self.unknown)
            text = slot.cut.feed(slot.decode(token, slot.previous))
            job.completion_tokens += 1
            self.tokens_generated += 1
            if slot.cut.stopped:
                self._finish(job, text, "stop")
            elif job.completion_tokens >= job.max_tokens or now > job.deadline:
                self._finish(job, text + slot.cut.flush(), "length")
            else:
                self._tell(job, text, None)
                slot.recent.append(token)
                slot.previous = token
                going.append(slot)
                tokens.append(token)
        if not going:
            return []
        if not isinstance(going[0].hidden, tuple):  # a Transformer: each slot's cache on its own
            for slot, token in zip(going, tokens):
                logits, slot.hidden = self.model(torch.tensor([[token]], device=self.model.device), slot.hidden)
                slot.logits = logits[0, -1]
            return going
        h = torch.cat([slot.hidden[0] for slot in going], dim=1)
        c = torch.cat([slot.hidden[1] for slot in going], dim=1)
        logits, (h, c) = self.model(torch.tensor(tokens, device=self.model.device).unsqueeze(1), (h, c))
        for row, slot in enumerate(going):
            slot.logits = logits[row, -1]
            slot.hidden = (h[:, row:row + 1], c[:, row:row + 1])
        return going

    def _finish(self, job: Job, text: str, reason: str) -> None:
        self._tell(job, text, reason)

    @staticmethod
    def _tell(job: Job, text: str, reason: str | None) -> None:
        try:
            job.emit(text, reason)
        except Exception:  # its listener is gone (the server is shutting down): drop the job
            job.cancelled.set()
