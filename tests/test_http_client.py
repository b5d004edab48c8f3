"""The polite HTTP client against a real server on 127.0.0.1 that injects faults."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from urllib.parse import urlsplit

import pytest
from conftest import fast_http

from pipeline import PROJECT_NAME, PROJECT_URL, __version__
from pipeline.errors import FetchError, Interrupted, NotFoundError
from pipeline.fetch.client import PoliteClient, backoff_delay, parse_retry_after

BOOK = "/cache/epub/101/pg101.txt"


def client_for(site, delay: float = 0.0, **http) -> PoliteClient:
    host = urlsplit(site.base_url).netloc
    return PoliteClient(fast_http(**http), allowed_hosts={host}, delays={host: delay})


def test_a_plain_get_writes_the_body_and_its_digest(site, tmp_path):
    dest = tmp_path / "body"
    result = client_for(site).get_to_file(site.base_url + BOOK, dest)
    body = site.files[BOOK]
    assert result.status == 200
    assert dest.read_bytes() == body
    assert result.size == len(body)
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    assert result.etag and result.last_modified


def test_every_request_carries_the_named_user_agent(site, tmp_path):
    client_for(site).get_to_file(site.base_url + BOOK, tmp_path / "b")
    agent = site.requests_for(BOOK)[0].user_agent
    assert agent == f"{PROJECT_NAME}/{__version__} (+{PROJECT_URL})"


@pytest.mark.parametrize("status", ["503", "429"])
def test_retry_after_is_honoured_before_the_retry(site, tmp_path, status):
    site.fail(BOOK, status)
    site.retry_after = "1"
    # backoff alone would retry after ~10 ms; only Retry-After can make it wait a second
    client_for(site, backoff=0.01).get_to_file(site.base_url + BOOK, tmp_path / "b")
    first, second = site.requests_for(BOOK)
    assert (first.status, second.status) == (int(status), 200)
    assert second.at - first.at >= 0.95
    assert (tmp_path / "b").read_bytes() == site.files[BOOK]


def test_retry_after_holds_back_other_requests_to_the_host(site, tmp_path):
    site.fail(BOOK, "503")
    client = client_for(site)
    client.get_to_file(site.base_url + BOOK, tmp_path / "a")
    failed_at = site.requests_for(BOOK, 503)[0].at
    client.get_to_file(site.base_url + "/cache/epub/108/pg108.txt", tmp_path / "b")
    assert site.requests_for("/cache/epub/108/pg108.txt")[0].at - failed_at >= 0.95


def test_5xx_without_retry_after_backs_off_and_succeeds(site, tmp_path):
    site.fail(BOOK, "500", "500", "503")
    site.retry_after = "0"
    result = client_for(site).get_to_file(site.base_url + BOOK, tmp_path / "b")
    assert result.status == 200
    assert [r.status for r in site.requests_for(BOOK)] == [500, 500, 503, 200]


def test_retries_give_up_with_the_last_status_in_the_message(site, tmp_path):
    site.fail(BOOK, *["500"] * 10)
    with pytest.raises(FetchError, match=r"HTTP 500 after 3 attempts") as caught:
        client_for(site, retries=2).get_to_file(site.base_url + BOOK, tmp_path / "b")
    assert caught.value.status == 500
    assert len(site.requests_for(BOOK)) == 3


def test_a_body_shorter_than_content_length_is_a_failed_attempt(site, tmp_path):
    site.fail(BOOK, "truncate", "truncate")
    dest = tmp_path / "b"
    client_for(site).get_to_file(site.base_url + BOOK, dest)
    logged = site.requests_for(BOOK)
    assert [r.truncated for r in logged] == [True, True, False]
    assert dest.read_bytes() == site.files[BOOK]


def test_a_read_timeout_is_retried(site, tmp_path):
    site.stall_seconds = 1.5
    site.fail(BOOK, "stall")
    dest = tmp_path / "b"
    client_for(site, read_timeout=0.5).get_to_file(site.base_url + BOOK, dest)
    assert dest.read_bytes() == site.files[BOOK]
    assert len(site.requests_for(BOOK)) == 2


def test_a_dropped_connection_is_retried(site, tmp_path):
    site.fail(BOOK, "reset")
    dest = tmp_path / "b"
    client_for(site).get_to_file(site.base_url + BOOK, dest)
    assert dest.read_bytes() == site.files[BOOK]


def test_a_refused_connection_fails_after_its_retries(tmp_path):
    client = PoliteClient(fast_http(retries=1), allowed_hosts={"127.0.0.1:9"})
    with pytest.raises(FetchError, match="connection failed.*after 2 attempts"):
        client.get_to_file("http://127.0.0.1:9/x", tmp_path / "b")


def test_404_is_not_retried(site, tmp_path):
    with pytest.raises(NotFoundError):
        client_for(site).get_to_file(site.base_url + "/cache/epub/999/pg999.txt", tmp_path / "b")
    assert len(site.requests_for("/cache/epub/999/pg999.txt")) == 1


def test_the_size_cap_refuses_large_bodies_without_retrying(site, tmp_path):
    with pytest.raises(FetchError, match="size cap"):
        client_for(site, max_file_size=100).get_to_file(site.base_url + BOOK, tmp_path / "b")
    assert len(site.requests_for(BOOK)) == 1


def test_redirects_are_followed_within_the_configured_hosts(site, tmp_path):
    site.redirects["/old/101.txt"] = BOOK
    result = client_for(site).get_to_file(site.base_url + "/old/101.txt", tmp_path / "b")
    assert result.url == site.base_url + BOOK
    assert (tmp_path / "b").read_bytes() == site.files[BOOK]


def test_redirects_to_other_hosts_are_refused(site, tmp_path):
    site.redirects["/elsewhere"] = "http://127.0.0.2:1/evil.txt"
    with pytest.raises(FetchError, match="not one of the configured hosts"):
        client_for(site).get_to_file(site.base_url + "/elsewhere", tmp_path / "b")


def test_conditional_request_gets_304(site, tmp_path):
    client = client_for(site)
    first = client.get_to_file(site.base_url + BOOK, tmp_path / "a")
    second = client.get_to_file(site.base_url + BOOK, tmp_path / "b", {"If-None-Match": first.etag})
    assert second.status == 304
    assert not (tmp_path / "b").exists() or (tmp_path / "b").stat().st_size == 0


def test_the_delay_spaces_requests_to_one_host_even_from_many_threads(site, tmp_path):
    client = client_for(site, delay=0.3)
    starts: list[float] = []
    session_of_thread = client._session

    def recording_session():
        # When the client sends, not when a busy server's handler gets round to logging it.
        session = session_of_thread()
        if not getattr(session, "recorded", False):
            send = session.get

            def get(*args, **kwargs):
                starts.append(time.monotonic())
                return send(*args, **kwargs)

            session.get, session.recorded = get, True
        return session

    client._session = recording_session
    paths = [f"/cache/epub/{n}/pg{n}.txt" for n in (101, 102, 103, 104)]
    threads = [threading.Thread(target=client.get_to_file, args=(site.base_url + p, tmp_path / str(i)))
               for i, p in enumerate(paths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts.sort()
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) == 4 and len(site.log) == 4
    # Without the gate the four threads send within milliseconds; a loaded machine only adds to a gap,
    # except for a thread that runs late after its turn came, hence the margin.
    assert min(gaps) >= 0.2 and starts[-1] - starts[0] >= 0.8


def test_setting_stop_interrupts_a_wait(site, tmp_path):
    site.fail(BOOK, "503")
    site.retry_after = "30"
    client = client_for(site, max_backoff=60)
    threading.Timer(0.3, client.stop.set).start()
    began = time.monotonic()
    with pytest.raises(Interrupted):
        client.get_to_file(site.base_url + BOOK, tmp_path / "b")
    assert time.monotonic() - began < 5


def test_parse_retry_after_reads_seconds_and_dates():
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(3)
    for attempt in range(8):
        step = min(30.0, 1.0 * 2**attempt)
        waits = [backoff_delay(attempt, 1.0, 30.0, rng) for _ in range(50)]
        assert all(step / 2 <= w <= step for w in waits)
        assert len(set(waits)) > 1
