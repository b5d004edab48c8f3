"""``python -m trainer serve`` against the official openai client and hostile raw sockets, on 127.0.0.1.

Each server is a real child process serving the tiny trained checkpoint; the tests end by checking
that no request killed it.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from model_fixtures import Server

openai = pytest.importorskip("openai", reason="the test extra (openai client) is not installed")
pytest.importorskip("fastapi", reason="the serve extra is not installed")


@pytest.fixture(scope="module")
def server(tiny_checkpoint, tmp_path_factory):
    served = Server(tiny_checkpoint, tmp_path_factory.mktemp("serve") / "server.log", "--name", "tiny-scifi",
                    "--max-tokens", "100000", "--max-prompt-chars", "2000", "--request-timeout", "600",
                    "--body-timeout", "2")
    yield served
    assert served.alive(), served.log.read_text()[-3000:]  # no request may kill the server
    served.stop()


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=60)


def complete(client, **kwargs):
    return client.completions.create(model="tiny-scifi", **kwargs)


def test_models_lists_the_checkpoint(client):
    assert [model.id for model in client.models.list()] == ["tiny-scifi"]
    assert client.models.retrieve("tiny-scifi").id == "tiny-scifi"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")


def test_same_seed_same_text_and_max_tokens_counted(client):
    first = complete(client, prompt="The ship came", max_tokens=40, seed=11, temperature=1.0)
    again = complete(client, prompt="The ship came", max_tokens=40, seed=11, temperature=1.0)
    other = complete(client, prompt="The ship came", max_tokens=40, seed=12, temperature=1.0)
    [choice] = first.choices
    assert choice.text == again.choices[0].text != other.choices[0].text
    assert len(choice.text) == 40 and choice.finish_reason == "length"  # a character model: a token is a character
    assert first.usage.prompt_tokens == len("The ship came") and first.usage.completion_tokens == 40
    assert first.object == "text_completion" and first.model == "tiny-scifi"


def test_n_choices_differ_and_each_repeats_with_the_seed(client):
    extra = {"top_k": 20, "repetition_penalty": 1.2}  # ours, beyond the client's named arguments
    three = complete(client, prompt="It was", max_tokens=30, n=3, seed=5, top_p=0.95, extra_body=extra)
    assert [c.index for c in three.choices] == [0, 1, 2]
    texts = [c.text for c in three.choices]
    assert len(set(texts)) == 3 and all(len(t) == 30 for t in texts)
    assert [c.text for c in complete(client, prompt="It was", max_tokens=30, n=3, seed=5, top_p=0.95,
                                     extra_body=extra).choices] == texts
    assert three.usage.completion_tokens == 90


def test_a_list_of_prompts_gives_a_choice_each(client):
    both = complete(client, prompt=["The", "A star"], max_tokens=8, n=2, seed=1)
    assert len(both.choices) == 4 and all(len(c.text) == 8 for c in both.choices)


def test_stop_ends_the_text_before_the_stop_string(client):
    free = complete(client, prompt="The", max_tokens=80, seed=3).choices[0].text
    stop = free[20:22]
    cut = complete(client, prompt="The", max_tokens=80, seed=3, stop=[stop, "\u2603never"]).choices[0]
    assert cut.finish_reason == "stop" and cut.text == free[:free.index(stop)]


def test_greedy_is_deterministic_without_a_seed(client):
    texts = {complete(client, prompt="The ship", max_tokens=20, temperature=0).choices[0].text for _ in range(2)}
    assert len(texts) == 1


def test_stream_sends_one_chunk_per_token_and_the_same_text(client):
    whole = complete(client, prompt="Far away", max_tokens=25, seed=9).choices[0].text
    chunks = list(complete(client, prompt="Far away", max_tokens=25, seed=9, stream=True))
    assert len(chunks) == 25
    assert "".join(c.choices[0].text for c in chunks) == whole
    assert [c.choices[0].finish_reason for c in chunks] == [None] * 24 + ["length"]
    with_usage = list(complete(client, prompt="Far away", max_tokens=5, seed=9, stream=True,
                               stream_options={"include_usage": True}))
    assert with_usage[-1].usage.completion_tokens == 5 and with_usage[-1].choices == []


def test_eight_concurrent_clients_each_get_their_seeds_text(client):
    alone = [complete(client, prompt="Once", max_tokens=30, seed=s).choices[0].text for s in range(8)]
    together: list[str | None] = [None] * 8

    def ask(seed: int) -> None:
        together[seed] = complete(client, prompt="Once", max_tokens=30, seed=seed).choices[0].text

    threads = [threading.Thread(target=ask, args=(s,)) for s in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert together == alone


def test_a_request_is_cut_at_the_time_limit(tiny_checkpoint, tmp_path):
    served = Server(tiny_checkpoint, tmp_path / "server.log", "--max-tokens", "10000000", "--request-timeout", "2")
    try:
        client = openai.OpenAI(base_url=f"{served.url}/v1", api_key="unused", max_retries=0, timeout=300)
        long = client.completions.create(model="last", prompt="The", max_tokens=10000000, seed=1)
        assert long.choices[0].finish_reason == "length" and 0 < long.usage.completion_tokens < 10000000
        assert served.alive()
    finally:
        served.stop()


@pytest.mark.parametrize("kwargs, status, param, words", [
    ({"temperature": 5}, 400, "temperature", "less than or equal to 2"),
    ({"top_p": 0}, 400, "top_p", "greater than 0"),
    ({"max_tokens": 100001}, 400, "max_tokens", "at most 100000"),
    ({"max_tokens": -1}, 400, "max_tokens", "greater than or equal to 0"),
    ({"n": 0}, 400, "n", "greater than or equal to 1"),
    ({"n": 17}, 400, "n", "at most 16"),
    ({"prompt": "x" * 2001}, 400, "prompt", "at most 2000"),
    ({"prompt": []}, 400, "prompt", "non-empty"),
    ({"stop": ["a", "b", "c", "d", "e"]}, 400, "stop", "up to 4"),
    ({"logprobs": 2}, 400, "logprobs", "not supported"),
    ({"echo": True}, 400, "echo", "not supported"),
    ({"extra_body": {"bogus": 1}}, 400, "bogus", "unknown parameter"),
    ({"extra_body": {"top_k": 0}}, 400, "top_k", "greater than or equal to 1"),
    ({"model": "gpt-4"}, 404, "model", "does not exist"),
])
def test_bad_input_is_a_4xx_with_a_one_line_reason(client, kwargs, status, param, words):
    arguments = {"model": "tiny-scifi", "prompt": "The", "max_tokens": 5, **kwargs}
    with pytest.raises(openai.APIStatusError) as caught:
        client.completions.create(**arguments)
    error = caught.value
    assert error.status_code == status
    body = error.response.json()["error"]
    assert set(body) == {"message", "type", "param", "code"} and body["param"] == param
    assert words in body["message"] and "\n" not in body["message"], body


def raw(server, data: bytes, read: bool = True, timeout: float = 30) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        if not read:
            return b""
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (ConnectionResetError, TimeoutError):
            pass
        return b"".join(chunks)


def request(body: bytes, extra: str = "", length: int | None = None) -> bytes:
    length = len(body) if length is None else length
    return (f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n{extra}\r\n").encode() + body


def status_and_error(reply: bytes) -> tuple[int, dict]:
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)["error"]


@pytest.mark.parametrize("body, code", [
    (b"not json at all", "invalid_json"),
    (b"\xff\xfe\x00binary\x80\x81", "invalid_json"),
    (b'{"prompt": "x", "temperature": NaN}', "invalid_json"),
    (b"[1, 2, 3]", "invalid_json"),
    (b'{"prompt": {"nested": true}}', None),
    (b'{"prompt": "x", "max_tokens": 1e400}', None),
])
def test_broken_bodies_are_400s_in_the_error_shape(server, body, code):
    status, error = status_and_error(raw(server, request(body)))
    assert status == 400 and error["code"] == code and "\n" not in error["message"], error


def test_hostile_clients_do_not_hurt_the_server(server, client):
    # an absurd header: refused by the HTTP layer, nothing reaches the model
    reply = raw(server, request(b"{}", extra=f"X-Huge: {'a' * 200_000}\r\n"))
    assert not reply.startswith(b"HTTP/1.1 2")
    # a body announced far larger than allowed
    status, error = status_and_error(raw(server, request(b"{}", length=50_000_000)))
    assert status == 413 and error["code"] == "body_too_large"
    # a dripping body: a few bytes, then silence past --body-timeout
    status, error = status_and_error(raw(server, request(b'{"prompt": "', length=100)))
    assert status == 408 and error["code"] == "body_timeout"
    # a path trick and an unknown route: 404 in the error shape
    for path in ("/../../etc/passwd", "/ort/../../trainer/serve.py", "/v2/completions"):
        reply = raw(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert reply.split()[1] in (b"404", b"400"), reply[:200]
    # a client that asks and hangs up without reading
    for _ in range(5):
        raw(server, request(b'{"prompt": "The", "max_tokens": 2000, "stream": true}'), read=False)
    assert complete(client, prompt="Still", max_tokens=5, seed=1).choices[0].text
    assert server.alive()


@pytest.fixture
def small_server(tiny_checkpoint, tmp_path):
    served = Server(tiny_checkpoint, tmp_path / "server.log", "--max-batch", "2", "--max-queue", "2",
                    "--max-tokens", "1000000", "--request-timeout", "600")
    yield served
    assert served.alive(), served.log.read_text()[-3000:]
    served.stop()


def health(server) -> dict:
    import httpx

    return httpx.get(f"{server.url}/health", timeout=10).json()


def test_disconnected_clients_free_their_slots_and_a_full_queue_is_a_503(small_server):
    client = openai.OpenAI(base_url=f"{small_server.url}/v1", api_key="unused", max_retries=0, timeout=60)
    streams = [client.completions.create(model="last", prompt="The", max_tokens=1_000_000, stream=True)
               for _ in range(2)]
    for stream in streams:
        next(iter(stream))  # both generating: the two slots are taken
    waiting = [client.completions.create(model="last", prompt="The", max_tokens=1_000_000, stream=True)
               for _ in range(2)]
    with pytest.raises(openai.APIStatusError) as caught:
        client.completions.create(model="last", prompt="The", max_tokens=5)
    assert caught.value.status_code == 503 and caught.value.response.json()["error"]["code"] == "server_overloaded"
    for stream in streams + waiting:
        stream.close()  # the clients go away mid-stream
    deadline = time.monotonic() + 60
    while (state := health(small_server)) != {"status": "ok", "generating": 0, "waiting": 0}:
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    assert len(client.completions.create(model="last", prompt="The", max_tokens=5).choices[0].text) == 5


def test_serve_mistakes_are_one_line_errors(tiny_checkpoint, tmp_path, capsys):
    from trainer.cli import main

    assert main(["serve", "--ckpt", str(tmp_path / "missing.ckpt"), "--port", "0"]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
    assert main(["serve", "--ckpt", str(tiny_checkpoint), "--max-batch", "0"]) == 2
    assert "--max-batch must be 1 or more" in capsys.readouterr().err
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        assert main(["serve", "--ckpt", str(tiny_checkpoint), "--port", str(taken.getsockname()[1])]) == 2
        err = capsys.readouterr().err
        assert "cannot listen on 127.0.0.1" in err and err.count("\n") == 1
    finally:
        taken.close()
