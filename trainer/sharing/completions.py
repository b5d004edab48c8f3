"""What a completions request may hold: the limits, the request's schema, and errors in the API's shape.

The checks are all made before a request reaches the generation worker; each failure is one
``APIError`` whose message is one line naming the parameter.
"""

import math
from dataclasses import dataclass
from typing import Literal


@dataclass
class ServeConfig:
    """Limits that keep one request from holding the server."""

    max_tokens: int = 2048
    """Most tokens one choice may ask for (``max_tokens``)."""
    max_prompt_chars: int = 8192
    """Longest prompt, in characters."""
    max_choices: int = 16
    """Most choices one request may ask for (prompts × ``n``)."""
    max_batch: int = 16
    """Sequences generated together, one LSTM call per token for all of them."""
    max_queue: int = 64
    """Choices waiting for a slot; beyond that a request is refused with 503 (retry later)."""
    request_timeout: float = 120.0
    """Seconds a request may take, waiting included; then it ends with finish_reason "length"."""
    body_timeout: float = 10.0
    """Seconds a client may take to send its request body."""
    max_body_bytes: int = 1 << 20
    """Largest request body."""


class APIError(Exception):
    """A request the server will not run: becomes ``{"error": {...}}`` with ``status``."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


def error_response(status: int, message: str, param: str | None = None, code: str | None = None,
                   kind: str = "invalid_request_error"):
    from fastapi.responses import JSONResponse

    return JSONResponse(APIError(status, message, param, code, kind).body(), status_code=status)


def make_request_model():
    from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

    class CompletionRequest(BaseModel):
        """The body of ``POST /v1/completions``; anything else is refused by name."""

        model_config = ConfigDict(extra="forbid")
        model: str | None = None
        prompt: str | list[str] = ""
        max_tokens: StrictInt | None = Field(16, ge=0)
        temperature: float = Field(1.0, ge=0, le=2)
        top_p: float = Field(1.0, gt=0, le=1)
        top_k: StrictInt | None = Field(None, ge=1)
        repetition_penalty: float = Field(1.0, ge=1, le=10)
        n: StrictInt = Field(1, ge=1)
        stream: StrictBool = False
        stream_options: dict | None = None
        stop: str | list[str] | None = None
        seed: StrictInt | None = Field(None, ge=-(1 << 63), lt=1 << 64)
        user: str | None = None
        echo: Literal[False] = False
        logprobs: None = None
        suffix: None = None
        best_of: Literal[1] | None = None
        presence_penalty: Literal[0] = 0
        frequency_penalty: Literal[0] = 0

    return CompletionRequest


HINTS = {"echo": "echo is not supported", "logprobs": "logprobs are not supported",
         "suffix": "suffix (insertion) is not supported", "best_of": "best_of is not supported; use n",
         "presence_penalty": "presence_penalty is not supported; use repetition_penalty",
         "frequency_penalty": "frequency_penalty is not supported; use repetition_penalty"}


def one_line_validation_error(exc) -> APIError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if not isinstance(part, int)) or None
    if first.get("type") == "extra_forbidden":
        return APIError(400, f"unknown parameter {where!r}", where, "unknown_parameter")
    if where in HINTS:
        return APIError(400, HINTS[where], where, "unsupported_parameter")
    return APIError(400, f"{where}: {first.get('msg', 'invalid value')} (got {first.get('input')!r:.60})", where)


MIN_TEMPERATURE = 0.01
"""Below this, logits divided by the temperature overflow to inf (1e-40) and sampling fails; 0 is greedy."""
MAX_JSON_DEPTH = 32
"""Nesting a request body may have: a completion request needs 3; 2,000 would exhaust the parser's stack."""


def check_json(body) -> None:
    """Refuse (400) what JSON allows but a request must not hold: deep nesting, lone surrogates (``"\\ud800"``,
    which no UTF-8 text can carry). Walked without recursion."""
    pending = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise APIError(400, f"the body nests deeper than {MAX_JSON_DEPTH} levels", code="invalid_json")
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise APIError(400, "the body holds a lone surrogate (like \\ud800), which is not text; send UTF-8 "
                                    "text", code="invalid_json") from None


def check_limits(request, settings: ServeConfig) -> tuple[list[str], list[str]]:
    prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
    if not prompts:
        raise APIError(400, "prompt: give a string or a non-empty list of strings", "prompt")
    for prompt in prompts:
        if len(prompt) > settings.max_prompt_chars:
            raise APIError(400, f"prompt is {len(prompt)} characters; this server takes at most "
                                f"{settings.max_prompt_chars} (--max-prompt-chars)", "prompt", "prompt_too_long")
    if request.max_tokens is not None and request.max_tokens > settings.max_tokens:
        raise APIError(400, f"max_tokens is {request.max_tokens}; this server gives at most {settings.max_tokens} "
                            f"(--max-tokens)", "max_tokens")
    if len(prompts) * request.n > settings.max_choices:
        raise APIError(400, f"{len(prompts)} prompts × n={request.n} is {len(prompts) * request.n} choices; this "
                            f"server gives at most {settings.max_choices} per request", "n")
    stops = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
    if len(stops) > 4 or any(len(stop) > 64 for stop in stops):
        raise APIError(400, "stop: give up to 4 strings of up to 64 characters", "stop")
    for name in ("temperature", "top_p", "repetition_penalty"):
        if not math.isfinite(getattr(request, name)):
            raise APIError(400, f"{name} must be a finite number", name)
    if 0 < request.temperature < MIN_TEMPERATURE:
        raise APIError(400, f"temperature must be 0 (greedy) or from {MIN_TEMPERATURE:g}, not {request.temperature:g}",
                       "temperature")
    return prompts, stops
