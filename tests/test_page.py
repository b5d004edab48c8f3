"""The page at ``GET /`` in a real headless Chromium: streamed text from the server, Stop, in-browser
generation from the exported ONNX model, and a static copy of page and model with no API at all."""

from __future__ import annotations

import functools
import http.server
import threading
import time

import pytest
from browser_setup import ensure_ort_web
from model_fixtures import Server

pytest.importorskip("selenium", reason="the test extra (selenium) is not installed")
pytest.importorskip("fastapi", reason="the serve extra is not installed")
httpx = pytest.importorskip("httpx", reason="the test extra (httpx) is not installed")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="session")
def ort_web():
    found = ensure_ort_web()
    if isinstance(found, str):
        pytest.skip(f"in-browser generation cannot be tested: {found}")
    return found


@pytest.fixture(scope="module")
def page_server(tiny_checkpoint, tmp_path_factory, ort_web):
    served = Server(tiny_checkpoint, tmp_path_factory.mktemp("page") / "server.log", "--name", "tiny",
                    "--max-tokens", "1000000", "--request-timeout", "600")
    yield served
    assert served.alive(), served.log.read_text()[-3000:]
    served.stop()


def fill(driver, **fields) -> None:
    for field, value in fields.items():
        box = driver.find_element(By.ID, field.replace("_", "-"))
        box.clear()
        box.send_keys(str(value))


def open_page(driver, url: str) -> None:
    driver.get(url)
    driver.execute_async_script("window.pageReady.then(arguments[arguments.length - 1])")


def run_and_wait(driver, timeout: float = 120) -> dict:
    runs = driver.execute_script("return window.pageStats.runs")
    driver.find_element(By.ID, "generate").click()
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return window.pageStats.runs") > runs)
    return driver.execute_script("return window.pageStats.last")


def output(driver) -> str:
    return driver.execute_script("return document.getElementById('output').textContent")


def api_text(server, **body) -> str:
    reply = httpx.post(f"{server.url}/v1/completions", json={"model": "tiny", **body}, timeout=60)
    reply.raise_for_status()
    return reply.json()["choices"][0]["text"]


def test_the_page_streams_the_servers_text(browser, page_server):
    open_page(browser, page_server.url + "/")
    assert "tiny" in browser.find_element(By.ID, "model-name").text
    fill(browser, prompt="The ship came down", temperature=1, top_k=0, top_p=1, length=60, seed=7)
    last = run_and_wait(browser)
    assert last["outcome"] == "done" and last["mode"] == "server", last
    expected = api_text(page_server, prompt="The ship came down", max_tokens=60, temperature=1, top_p=1, seed=7)
    assert output(browser) == expected and len(expected) == 60
    assert last["updates"] == 60  # the text arrived token by token, not at the end
    assert browser.find_element(By.ID, "status").text.startswith("done: 60 characters")


def test_stop_ends_the_text_and_frees_the_servers_slot(browser, page_server):
    open_page(browser, page_server.url + "/")
    fill(browser, prompt="The", length=1000000, seed=1)
    browser.find_element(By.ID, "generate").click()
    WebDriverWait(browser, 60).until(lambda d: len(output(d)) > 20)
    browser.find_element(By.ID, "stop").click()
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return window.pageStats.runs") == 1)
    assert browser.execute_script("return window.pageStats.last.outcome") == "stopped"
    stopped_at = output(browser)
    deadline = time.monotonic() + 60
    while httpx.get(f"{page_server.url}/health", timeout=10).json()["generating"]:
        assert time.monotonic() < deadline, "the server kept generating for a page that stopped"
        time.sleep(0.2)
    assert output(browser) == stopped_at and 20 < len(stopped_at) < 1000000


def test_a_refused_request_is_shown_as_one_line(browser, page_server):
    open_page(browser, page_server.url + "/")
    fill(browser, prompt="The", length=2000000)
    last = run_and_wait(browser)
    status = browser.find_element(By.ID, "status")
    assert last["outcome"] == "error" and "max_tokens is 2000000" in status.text and "error" in status.get_attribute(
        "class")


def test_in_browser_generation_matches_the_server(browser, page_server):
    open_page(browser, page_server.url + "/")
    browser.find_element(By.ID, "in-browser").click()
    fill(browser, prompt="It was a dark", temperature=0, length=80)
    last = run_and_wait(browser, timeout=240)  # the first use exports the ONNX model on the server
    assert last["outcome"] == "done" and last["mode"] == "browser", (last, browser.find_element(By.ID, "status").text)
    assert output(browser) == api_text(page_server, prompt="It was a dark", max_tokens=80, temperature=0)
    # sampled text repeats with its seed in the page too
    fill(browser, temperature=0.9, top_k=10, top_p=0.9, seed=42, length=50)
    first = (run_and_wait(browser), output(browser))[1]
    assert (run_and_wait(browser), output(browser))[1] == first and len(first) == 50


class StaticFiles(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".wasm": "application/wasm"}

    def log_message(self, *args):
        pass


def test_a_static_copy_of_page_and_model_generates_with_no_server(browser, tiny_checkpoint, tmp_path, ort_web):
    from trainer.cli import main
    from trainer.sharing.generate import SamplingConfig, generate, load_model

    site = tmp_path / "site"
    assert main(["export", "--ckpt", str(tiny_checkpoint), "--format", "onnx", "-o", str(site / "model.onnx"),
                 "--page"]) == 0
    assert {"index.html", "model.onnx", "model.vocab.json", "ort"} <= {p.name for p in site.iterdir()}
    files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(StaticFiles, directory=str(site)))
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        open_page(browser, f"http://127.0.0.1:{files.server_address[1]}/index.html")
        assert browser.find_element(By.ID, "in-browser").is_selected()  # no API here: the browser it is
        fill(browser, prompt="Far beyond the", temperature=0, length=70)
        last = run_and_wait(browser, timeout=240)
        assert last["outcome"] == "done" and last["mode"] == "browser", browser.find_element(By.ID, "status").text
    finally:
        files.shutdown()
    model, tokenizer = load_model(tiny_checkpoint)
    assert output(browser) == generate(model, tokenizer, "Far beyond the", 70, SamplingConfig(temperature=0))


def test_without_onnxruntime_web_the_page_offers_no_in_browser_mode_and_says_why(browser, tiny_checkpoint, tmp_path):
    """The server knows what the page can do; the page asks it, and shows the server's reason and fix."""
    server = Server(tiny_checkpoint, tmp_path / "server.log", "--name", "tiny",
                    env={"ORT_WEB_DIR": str(tmp_path / "no-such-ort")})
    try:
        offer = httpx.get(f"{server.url}/capabilities.json", timeout=30).json()["in_browser"]
        assert offer["available"] is False and "ORT_WEB_DIR" in offer["reason"] and ".cache/npm" in offer["reason"]
        browser.get_log("browser")  # what earlier tests left in the console (the log is read once)
        open_page(browser, server.url + "/")
        box = browser.find_element(By.ID, "in-browser")
        assert box.get_attribute("disabled") and not box.is_selected()
        note = browser.find_element(By.ID, "in-browser-note").text
        assert "ORT_WEB_DIR" in note and "npm install onnxruntime-web" in note, note
        # the server's text still streams, and nothing the page asked for was missing (no favicon 404)
        fill(browser, prompt="It was", temperature=0, length=20)
        assert run_and_wait(browser)["outcome"] == "done"
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == [], errors
    finally:
        server.stop()


def test_with_onnxruntime_web_the_server_offers_the_in_browser_mode(page_server):
    offer = httpx.get(f"{page_server.url}/capabilities.json", timeout=30).json()["in_browser"]
    assert offer == {"available": True, "reason": None}
