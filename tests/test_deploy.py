"""deploy/serve.sh: replicas behind Debian's nginx, sticky by cookie, websockets upgraded."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench import loadgen, loadtest
from starviz import config
from starviz.credentials import DEMO_PASSWORD

NGINX = "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="Debian's nginx is not installed")


@pytest.fixture(scope="module")
def proxy(fixture_build, tmp_path_factory):
    work = tmp_path_factory.mktemp("deploy")
    port, first = loadtest.free_port(), loadtest.free_port()
    serve = subprocess.Popen(
        ["bash", "deploy/serve.sh", "2", str(port), str(first)],
        cwd=config.ROOT,
        env={**os.environ, "PYTHON": sys.executable, "STARVIZ_DB": str(fixture_build.db_path), "STARVIZ_AUTH_DIR": str(work)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    said = serve.stdout.readline()
    try:
        assert said.startswith("starviz: http://127.0.0.1:"), said
        yield f"http://127.0.0.1:{port}", serve
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)


def test_people_sign_in_and_click_through_the_proxy_each_browser_with_its_own_route(proxy):
    url, _ = proxy

    async def person():
        s = loadgen.Session(url)
        await s.open()
        assert len(s.cookies.get("starviz_route", "")) == 32  # nginx placed this browser on a replica
        await s.sign_in("director", DEMO_PASSWORD)
        await s.tick("f_addr", False)
        await s.open_page("Spend")
        assert "addressable=0" in s.query_string  # same session: the filter followed to the next page
        await s.close()
        return s.cookies["starviz_route"]

    async def crowd():
        return await asyncio.gather(*(person() for _ in range(4)))

    routes = asyncio.run(crowd())
    assert len(set(routes)) == 4  # each browser its own route, not one per address as ip_hash would


def test_stopping_the_script_stops_the_proxy_and_every_replica(fixture_build, tmp_path):
    port, first = loadtest.free_port(), loadtest.free_port()
    serve = subprocess.Popen(
        ["bash", "deploy/serve.sh", "1", str(port), str(first)],
        cwd=config.ROOT,
        env={**os.environ, "PYTHON": sys.executable, "STARVIZ_DB": str(fixture_build.db_path), "STARVIZ_AUTH_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert serve.stdout.readline().startswith("starviz:")
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=30)
    for p in (port, first):
        with pytest.raises(OSError):
            __import__("socket").create_connection(("127.0.0.1", p), timeout=1).close()


def _raw(url: str, request: bytes) -> bytes:
    """What nginx answers to a request written by hand (headers only: nginx judges the length by them)."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_through_the_proxy_the_app_s_headers_arrive_once_and_nginx_names_no_version(proxy):
    from starviz import http_headers

    url, _ = proxy
    answer = _raw(url, b"GET /spend HTTP/1.1\r\nHost: starviz\r\nConnection: close\r\n\r\n").decode("latin-1")
    head = answer.split("\r\n\r\n", 1)[0].lower().splitlines()
    for name, value in http_headers.HEADERS.items():
        assert head.count(f"{name}: {value}".lower()) == 1, name
    assert "server: nginx" in head  # the name only: no version, no uvicorn


def test_an_upload_over_the_limit_gets_a_sentence_not_nginx_s_page(proxy):
    url, _ = proxy
    answer = _raw(
        url,
        b"POST /_stcore/upload_file/x/y HTTP/1.1\r\nHost: starviz\r\nContent-Length: 300000000\r\n"
        b"Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
    ).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413")
    body = answer.split("\r\n\r\n", 1)[1]
    assert body == "That upload is over starviz's limit of 200 MB a file.\n"
    assert "nginx" not in body


def test_behind_the_proxy_sign_in_is_throttled_per_browser_address_not_only_per_name(proxy):
    """Password spraying: one address tries one password on many user names. Behind deploy/serve.sh's
    nginx every request came from 127.0.0.1, which Streamlit reports as no address, so only each name
    was counted and the spray was never slowed; nginx is now trusted for X-Forwarded-For and the
    address is counted as well (the last test of this module: it locks this address out)."""
    from starviz import auth

    url, _ = proxy

    async def spray():
        said = []
        for n in range(auth.LOCK_AFTER + 1):
            s = loadgen.Session(url)
            await s.open()
            name, password = (f"someone.{n}", "wrong") if n < auth.LOCK_AFTER else ("director", DEMO_PASSWORD)
            try:
                await s.sign_in(name, password)
                said.append("signed in")
            except loadgen.ProtocolError as refused:
                said.append(str(refused))
            await s.close()
        return said

    said = asyncio.run(spray())
    assert all(auth.SIGN_IN_FAILED in s for s in said[: auth.LOCK_AFTER - 1])
    assert "Too many failed sign-ins" in said[-1]  # even the right password of another name, from there
