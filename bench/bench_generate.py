"""Generation speed: ``generate`` in-process, the server under 1 and 8 concurrent clients, the browser.

    python bench/bench_generate.py [--ckpt runs/scifi-cpu/checkpoints/last.ckpt] [--tokens 1000]

All in one run, on this machine, characters per second of new text:

  - baseline: ``trainer.sharing.generate.generate`` in this process (one LSTM step per character);
  - the server (``python -m trainer serve`` in a child process on 127.0.0.1), with torch's default
    threads and with ``--threads 1``: one client asking for completions one after another, then 8
    clients at once (the server batches their steps: the figure is the sum over the clients, and
    each client's own rate is shown too);
  - the page in headless Chromium: streamed from the server, and generated in the page itself
    from the exported ONNX model by onnxruntime-web (wasm, one thread), after one warm-up run.

Without --ckpt, ``runs/scifi-cpu/checkpoints/last.ckpt`` is used where it exists, else an untrained
model of the same sizes (2 × 256 LSTM, 64-wide embedding, 112 characters): speed does not depend
on what the weights have learnt. Sampling: temperature 0.8, top-k 40, top-p 0.95.
"""

from __future__ import annotations

import argparse
import string
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from trainer.sharing.generate import SamplingConfig, generate, load_model  # noqa: E402

PROMPT = "It all began with"
SAMPLING = {"temperature": 0.8, "top_k": 40, "top_p": 0.95}


def untrained_checkpoint(path: Path) -> Path:
    """A checkpoint of the scifi-cpu sizes with fresh weights, in the trainer's own format."""
    from trainer.checkpoint import save_checkpoint
    from trainer.data.tokenizer import UNK, CharTokenizer
    from trainer.training.module import CHECKPOINT_FORMAT, LSTMLanguageModel

    characters = sorted(set(string.printable) | set("—‘’“”é"))[:111]
    tokenizer = CharTokenizer([UNK, *characters])
    torch.manual_seed(0)
    model = LSTMLanguageModel(vocab_size=tokenizer.vocab_size, embedding_size=64, hidden_size=256, num_layers=2,
                              dropout=0.1, vocabulary=tokenizer.to_dict())
    save_checkpoint({"gutenberg_lstm": {"format": CHECKPOINT_FORMAT}, "hyper_parameters": dict(model.hparams),
                     "state_dict": model.state_dict(), "vocabulary": tokenizer.to_dict()}, path)
    return path


def bench_generate(checkpoint: Path, tokens: int, threads: int | None = None) -> float:
    default = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _bench_generate(checkpoint, tokens)
    finally:
        torch.set_num_threads(default)


def _bench_generate(checkpoint: Path, tokens: int) -> float:
    model, tokenizer = load_model(checkpoint)
    config = SamplingConfig(**SAMPLING)
    generate(model, tokenizer, PROMPT, 50, config, seed=0)  # warm-up
    started = time.perf_counter()
    text = generate(model, tokenizer, PROMPT, tokens, config, seed=1)
    return len(text) / (time.perf_counter() - started)


def bench_clients(url: str, clients: int, tokens: int, requests_each: int) -> tuple[float, float]:
    """(all clients' characters per second, one client's mean characters per second)."""
    import httpx

    rates: list[float] = []
    total = [0]
    lock = threading.Lock()

    def client(index: int) -> None:
        with httpx.Client(timeout=600) as http:
            for request in range(requests_each):
                started = time.perf_counter()
                reply = http.post(f"{url}/v1/completions", json={"prompt": PROMPT, "max_tokens": tokens,
                                                                 "seed": index * 100 + request, **SAMPLING})
                reply.raise_for_status()
                characters = len(reply.json()["choices"][0]["text"])
                with lock:
                    rates.append(characters / (time.perf_counter() - started))
                    total[0] += characters

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total[0] / (time.perf_counter() - started), sum(rates) / len(rates)


def bench_page(url: str, tokens: int) -> dict[str, float] | str:
    from browser_setup import ensure_chromium, start_chromium
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    found = ensure_chromium()
    if isinstance(found, str):
        return found
    driver = start_chromium(*found)
    results = {}
    try:
        driver.get(url + "/")
        driver.execute_async_script("window.pageReady.then(arguments[arguments.length - 1])")
        for field, value in (("prompt", PROMPT), ("temperature", 0.8), ("top-k", 40), ("top-p", 0.95),
                             ("length", tokens), ("seed", 1)):
            box = driver.find_element(By.ID, field)
            box.clear()
            box.send_keys(str(value))
        for mode in ("server", "browser"):
            if mode == "browser":
                driver.find_element(By.ID, "in-browser").click()
            for _ in range(2):  # the first run warms up (and, in the browser, loads the model)
                runs = driver.execute_script("return window.pageStats.runs")
                driver.find_element(By.ID, "generate").click()
                WebDriverWait(driver, 900).until(lambda d: d.execute_script("return window.pageStats.runs") > runs)
            last = driver.execute_script("return window.pageStats.last")
            if last["outcome"] != "done":
                return f"the page's {mode} run ended with {last['outcome']}: " + \
                    driver.find_element(By.ID, "status").text
            results[mode] = last["chars"] / last["seconds"]
    finally:
        driver.quit()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt", type=Path, help="default: runs/scifi-cpu/checkpoints/last.ckpt, else untrained")
    parser.add_argument("--tokens", type=int, default=1000, help="characters per request (default: 1000)")
    args = parser.parse_args()

    from browser_setup import ensure_ort_web
    from model_fixtures import Server

    scratch = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    checkpoint = args.ckpt or REPO / "runs" / "scifi-cpu" / "checkpoints" / "last.ckpt"
    what = str(checkpoint)
    if args.ckpt is None and not checkpoint.is_file():
        checkpoint = untrained_checkpoint(scratch / "untrained.ckpt")
        what = "untrained, scifi-cpu sizes"
    model, tokenizer = load_model(checkpoint)
    print(f"model: {what}; {model.lstm.num_layers} x {model.lstm.hidden_size} LSTM, vocabulary "
          f"{tokenizer.vocab_size}; torch threads {torch.get_num_threads()}; {args.tokens} characters per request")
    ort = ensure_ort_web()
    if isinstance(ort, str):
        print(f"note: {ort}; the in-browser figure will be missing")

    rows = [(f"generate() in-process, {torch.get_num_threads()} torch threads (baseline)",
             bench_generate(checkpoint, args.tokens), None),
            ("generate() in-process, 1 torch thread", bench_generate(checkpoint, args.tokens, threads=1), None)]
    for threads in (None, 1):
        server = Server(checkpoint, scratch / "server.log", "--max-tokens", str(max(args.tokens, 2048)),
                        *(["--threads", str(threads)] if threads else []))
        label = f"--threads {threads}" if threads else "default threads"
        try:
            bench_clients(server.url, 1, 50, 1)  # warm-up
            total, _ = bench_clients(server.url, 1, args.tokens, 3)
            rows.append((f"server ({label}), 1 client", total, None))
            total, each = bench_clients(server.url, 8, args.tokens, 2)
            rows.append((f"server ({label}), 8 concurrent clients (sum)", total, f"each client {each:,.0f}/s"))
        except BaseException:
            server.stop()
            raise
        if threads is None:
            server.stop()
    try:  # the page, against the --threads 1 server
        page = bench_page(server.url, args.tokens)
        if isinstance(page, str):
            print(f"note: no browser figures: {page}")
        else:
            rows.append(("page in headless Chromium, streamed from the server (--threads 1)", page["server"],
                         None))
            rows.append(("page in headless Chromium, in-page ONNX (wasm)", page["browser"], None))
    finally:
        server.stop()
    base = rows[0][1]
    print(f"\n{'':68} {'chars/s':>10} {'vs baseline':>12}")
    for name, rate, note in rows:
        print(f"{name:68} {rate:10,.0f} {rate / base:11.2f}x" + (f"   ({note})" if note else ""))


if __name__ == "__main__":
    main()
