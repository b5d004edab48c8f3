"""``python -m trainer serve``: the checkpoint behind the completions API that OpenAI clients speak, and a page.

- ``POST /v1/completions``: prompt, max_tokens, temperature, top_p, seed, stop, n, stream (server-sent
  events, one chunk per token), plus top_k and repetition_penalty. Errors come in that API's JSON
  error shape with a one-line message.
- ``GET /v1/models``: the checkpoint, by name.
- ``GET /``: the page (``static/index.html``); ``/model.onnx`` and ``/model.vocab.json``: the model
  exported for in-browser generation (made on first request); ``/ort/``: onnxruntime-web, where found.

Generation itself happens in ``batching.Engine``; this module only checks requests and reports.
"""


import argparse
import asyncio
import contextlib
import importlib.util
import json
import logging
import math
import mimetypes
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

import torch

from ..errors import ConfigError, install_hint
from .completions import (
    MAX_JSON_DEPTH,
    APIError,
    ServeConfig,
    check_json,
    check_limits,
    error_response,
    make_request_model,
    one_line_validation_error,
)
from .generate import SamplingConfig, load_model, prompt_ids

log = logging.getLogger("trainer.sharing.serve")


def warm_up(model, tokenizer) -> None:
    """A few steps of the model before the first request: torch's first calls (kernel choice, allocator)
    otherwise cost the first user some seconds."""
    import torch

    with torch.no_grad():
        ids = prompt_ids(tokenizer, "It was")
        logits, state = model(torch.tensor([ids], device=model.device))
        for _ in range(8):
            logits, state = model(torch.tensor([[int(logits[0, -1].argmax())]], device=model.device), state)


def create_app(checkpoint: Path, name: str | None = None, settings: ServeConfig | None = None, device: str = "cpu"):
    """The FastAPI application serving ``checkpoint`` (its model is loaded here, once)."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse, Response
    from pydantic import ValidationError
    from sse_starlette.sse import EventSourceResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from .batching import Engine, Job, Overloaded
    from .export import unsupported
    from .webassets import ORT_WEB_FIX, STATIC, find_ort_web

    settings = settings or ServeConfig()
    model, tokenizer = load_model(checkpoint, device)
    warm_up(model, tokenizer)
    model_id = name or Path(checkpoint).stem
    created = int(Path(checkpoint).stat().st_mtime)
    engine = Engine(model, tokenizer, max_batch=settings.max_batch, max_queue=settings.max_queue)
    CompletionRequest = make_request_model()
    exported: dict[str, Path] = {}
    unexportable = unsupported(model, tokenizer)  # a Transformer or BPE: served, but not exported for the page
    export_lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        engine.close()

    app = FastAPI(title="gutenberg-lstm", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.engine = engine

    @app.exception_handler(APIError)
    async def api_error(request: Request, exc: APIError):
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = {404: f"no such path: {request.url.path}", 405: f"{request.method} is not allowed on "
                   f"{request.url.path}"}.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, message, code="not_found" if exc.status_code == 404 else None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse(one_line_validation_error(exc).body(), status_code=400)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        log.exception("request failed")
        return error_response(500, "the server failed on this request; it keeps serving others", kind="server_error")

    async def read_json(request: Request) -> dict:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > settings.max_body_bytes):
            raise APIError(413, f"the body is larger than {settings.max_body_bytes} bytes", code="body_too_large")
        chunks, size = [], 0

        async def collect():
            nonlocal size
            async for chunk in request.stream():
                size += len(chunk)
                if size > settings.max_body_bytes:
                    raise APIError(413, f"the body is larger than {settings.max_body_bytes} bytes",
                                   code="body_too_large")
                chunks.append(chunk)

        try:
            await asyncio.wait_for(collect(), settings.body_timeout)
        except asyncio.TimeoutError:
            raise APIError(408, f"the body took more than {settings.body_timeout:g} s to arrive",
                           code="body_timeout") from None

        def refuse_constant(value: str):
            raise ValueError(f"{value} is not a number JSON allows")

        try:
            body = json.loads(b"".join(chunks).decode("utf-8"), parse_constant=refuse_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise APIError(400, f"the body is not JSON ({str(exc).splitlines()[0][:120]}); send "
                                "Content-Type: application/json with an object", code="invalid_json") from None
        except RecursionError:
            raise APIError(400, f"the body nests deeper than {MAX_JSON_DEPTH} levels", code="invalid_json") from None
        if not isinstance(body, dict):
            raise APIError(400, "the body must be a JSON object", code="invalid_json")
        check_json(body)
        return body

    @app.get("/v1/models")
    async def list_models():
        return {"object": "list", "data": [{"id": model_id, "object": "model", "created": created,
                                            "owned_by": "gutenberg-lstm"}]}

    @app.get("/v1/models/{wanted:path}")
    async def one_model(wanted: str):
        if wanted != model_id:
            raise APIError(404, f"the model {wanted!r} does not exist; this server has {model_id!r}", "model",
                           "model_not_found")
        return {"id": model_id, "object": "model", "created": created, "owned_by": "gutenberg-lstm"}

    @app.get("/health")
    async def health():
        return {"status": "ok", "generating": engine.active, "waiting": engine.waiting}

    @app.post("/v1/completions")
    async def completions(request: Request):
        try:
            body = CompletionRequest.model_validate(await read_json(request))
        except ValidationError as exc:
            raise one_line_validation_error(exc) from None
        if body.model not in (None, model_id):
            raise APIError(404, f"the model {body.model!r} does not exist; this server has {model_id!r} "
                                "(GET /v1/models)", "model", "model_not_found")
        prompts, stops = check_limits(body, settings)
        config = SamplingConfig(temperature=body.temperature, top_k=body.top_k, top_p=body.top_p,
                                repetition_penalty=body.repetition_penalty)
        max_tokens = settings.max_tokens if body.max_tokens is None else body.max_tokens
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        deadline = time.monotonic() + settings.request_timeout
        jobs = []
        for prompt_index, prompt in enumerate(prompts):
            for choice in range(body.n):
                index = prompt_index * body.n + choice
                seed = None if body.seed is None else (body.seed + index) % (1 << 64)

                def emit(text, reason, index=index):
                    loop.call_soon_threadsafe(events.put_nowait, (index, text, reason))

                jobs.append(Job(prompt, max_tokens, config, emit, seed=seed, stop=stops, deadline=deadline))
        try:
            engine.submit(jobs)
        except Overloaded as exc:
            raise APIError(503, f"the server is busy ({exc}); retry in a few seconds", code="server_overloaded",
                           kind="server_error") from None
        completion_id = f"cmpl-{uuid.uuid4().hex[:24]}"
        head = {"id": completion_id, "object": "text_completion", "created": int(time.time()), "model": model_id,
                "system_fingerprint": f"torch-{torch.__version__}"}

        def cancel_all():
            for job in jobs:
                job.cancelled.set()

        def usage() -> dict:
            prompt_tokens = sum(job.prompt_tokens for job in jobs)
            completion_tokens = sum(job.completion_tokens for job in jobs)
            return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens}

        if body.stream:
            async def chunks():
                finished = 0
                try:
                    while finished < len(jobs):
                        index, text, reason = await events.get()
                        finished += reason is not None
                        yield json.dumps({**head, "choices": [{"text": text, "index": index, "logprobs": None,
                                                               "finish_reason": reason}]})
                    if (body.stream_options or {}).get("include_usage"):
                        yield json.dumps({**head, "choices": [], "usage": usage()})
                    yield "[DONE]"
                finally:  # the client left, or the stream ended: either way the slots are freed
                    cancel_all()

            return EventSourceResponse(chunks(), ping=10, send_timeout=settings.request_timeout)

        texts = [[] for _ in jobs]
        reasons: list[str | None] = [None] * len(jobs)

        async def gather():
            finished = 0
            while finished < len(jobs):
                index, text, reason = await events.get()
                texts[index].append(text)
                if reason is not None:
                    reasons[index] = reason
                    finished += 1

        async def watch_disconnect():
            while not await request.is_disconnected():
                await asyncio.sleep(0.25)

        gathering, watching = asyncio.create_task(gather()), asyncio.create_task(watch_disconnect())
        try:
            await asyncio.wait({gathering, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watching.cancel()
            if not gathering.done():
                gathering.cancel()
                cancel_all()
        if not gathering.done() or gathering.cancelled():
            return Response(status_code=499)  # nobody is listening
        if "error" in reasons:
            raise APIError(500, "generation failed on this request; the server keeps serving others",
                           kind="server_error")
        return {**head, "choices": [{"text": "".join(texts[i]), "index": i, "logprobs": None,
                                     "finish_reason": reasons[i]} for i in range(len(jobs))], "usage": usage()}

    @app.get("/")
    async def page():
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def exported_file(kind: str) -> Path:
        if unexportable is not None:
            raise APIError(404, f"in-browser generation is not available for this model: {unexportable}",
                           code="export_unavailable")
        async with export_lock:
            if not exported:
                try:
                    import onnx  # noqa: F401
                except ImportError:
                    raise APIError(404, f"in-browser generation needs the export extra on the server: "
                                        f"{install_hint('export')}", code="export_unavailable") from None
                from .export import export, vocabulary_path

                target = Path(tempfile.mkdtemp(prefix="gutenberg-lstm-serve-")) / "model.onnx"
                await asyncio.to_thread(export, Path(checkpoint), "onnx", target)
                exported.update(model=target, vocabulary=vocabulary_path(target))
        return exported[kind]

    @app.get("/model.onnx")
    async def model_file():
        return FileResponse(await exported_file("model"), media_type="application/octet-stream")

    @app.get("/model.vocab.json")
    async def vocabulary_file():
        return FileResponse(await exported_file("vocabulary"), media_type="application/json")

    ort = find_ort_web()

    @app.get("/capabilities.json")
    async def capabilities():
        """What the page may offer: in-browser generation needs an exportable model, onnx and onnxruntime-web."""
        reason = None
        if unexportable is not None:
            reason = f"not available for this model: {unexportable}"
        elif importlib.util.find_spec("onnx") is None:
            reason = f"needs the export extra on the server: {install_hint('export')}"
        elif ort is None:
            reason = f"needs onnxruntime-web on the server: {ORT_WEB_FIX}, then restart serve"
        return {"in_browser": {"available": reason is None, "reason": reason}}

    if ort is not None:
        from fastapi.staticfiles import StaticFiles

        # browsers refuse a module script or wasm served under another type; not every system maps these
        mimetypes.add_type("text/javascript", ".mjs")
        mimetypes.add_type("application/wasm", ".wasm")
        app.mount("/ort", StaticFiles(directory=ort), name="ort")
    else:
        @app.get("/ort/{anything:path}")
        async def no_ort(anything: str):
            raise APIError(404, f"onnxruntime-web is not installed where the server looks: {ORT_WEB_FIX}",
                           code="ort_web_missing")

    return app


def make_parser() -> argparse.ArgumentParser:
    from ..errors import OneLineArgparse
    from .generate import EXIT_CODES

    defaults = ServeConfig()
    parser = OneLineArgparse(
        prog="python -m trainer serve",
        description="Serve a checkpoint: the completions API of OpenAI clients at /v1 (streaming included), and a "
                    "page at / to write with it in a browser.",
        epilog="example:\n  python -m trainer serve --ckpt runs/scifi/checkpoints/best.ckpt --port 8000\n  then open "
               "http://127.0.0.1:8000/ or point an OpenAI client at http://127.0.0.1:8000/v1\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt", type=Path, required=True, metavar="PATH", help="a checkpoint of `trainer fit`")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this "
                        "machine only; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    parser.add_argument("--name", help="the model's id in the API (default: the checkpoint's file name stem)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--max-tokens", type=int, default=defaults.max_tokens, metavar="N",
                        help=f"most tokens per choice (default: {defaults.max_tokens})")
    parser.add_argument("--max-prompt-chars", type=int, default=defaults.max_prompt_chars, metavar="N",
                        help=f"longest prompt (default: {defaults.max_prompt_chars})")
    parser.add_argument("--max-batch", type=int, default=defaults.max_batch, metavar="N",
                        help=f"sequences generated together (default: {defaults.max_batch})")
    parser.add_argument("--max-queue", type=int, default=defaults.max_queue, metavar="N",
                        help=f"choices waiting beyond those; more are refused with 503 (default: {defaults.max_queue})")
    parser.add_argument("--request-timeout", type=float, default=defaults.request_timeout, metavar="S",
                        help=f"seconds per request, waiting included (default: {defaults.request_timeout:g})")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="torch threads for generation (default: torch's); 1 is often fastest for small "
                             "batches on a busy CPU")
    parser.add_argument("--body-timeout", type=float, default=defaults.body_timeout, metavar="S",
                        help=f"seconds a client may take to send its request (default: {defaults.body_timeout:g})")
    return parser


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port or --host") \
            from None
    sock.listen(128)
    return sock


def main(argv: list[str]) -> int:
    args = make_parser().parse_args(argv)
    for flag, value in (("--max-tokens", args.max_tokens), ("--max-prompt-chars", args.max_prompt_chars),
                        ("--max-batch", args.max_batch), ("--max-queue", args.max_queue)):
        if value < 1:
            raise ConfigError(f"{flag} must be 1 or more, not {value}")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {args.port}")
    for flag, seconds in (("--request-timeout", args.request_timeout), ("--body-timeout", args.body_timeout)):
        if not (seconds > 0 and math.isfinite(seconds)):
            raise ConfigError(f"{flag} must be a positive number of seconds, not {seconds}")
    try:
        import fastapi  # noqa: F401
        import sse_starlette  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise ConfigError(f"serve needs {exc.name}: {install_hint('serve')}") from None
    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError(f"--threads must be 1 or more, not {args.threads}")
        torch.set_num_threads(args.threads)
    settings = ServeConfig(max_tokens=args.max_tokens, max_prompt_chars=args.max_prompt_chars,
                           max_batch=args.max_batch, max_queue=args.max_queue, request_timeout=args.request_timeout,
                           body_timeout=args.body_timeout)
    sock = listening_socket(args.host, args.port)  # first: a port in use is reported before the model loads
    try:
        app = create_app(args.ckpt, args.name, settings, args.device)
    except BaseException:
        sock.close()
        raise
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {args.ckpt} as {(args.name or args.ckpt.stem)!r} at http://{shown}:{port}/ "
          f"(API: http://{shown}:{port}/v1); Ctrl-C stops", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_keep_alive=5, limit_concurrency=512,
                                           h11_max_incomplete_event_size=64 * 1024))
    server.run(sockets=[sock])
    return 0
