"""console/security.py on its own, fast enough for mutation testing (tests/test_console_security.py
drives the whole console): the cookie key file, the client address through trusted proxies, HTTPS
through a proxy and the CSRF token (the middlewares: tests/test_console_security_middleware.py)."""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from console.security import client_address, csrf_token, is_https, secret_key

# --- the cookie key ----------------------------------------------------------------------------------


def test_the_key_file_is_made_once_with_mode_0600(make_settings, tmp_path):
    settings = make_settings(console={"secret_file": "deep/er/console.key"})
    key = secret_key(settings)
    path = tmp_path / "deep" / "er" / "console.key"
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1
    assert base64.urlsafe_b64decode(raw.strip()) == key and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(settings) == key  # read back, not made again


def test_a_key_file_is_made_in_a_folder_that_exists(make_settings, tmp_path):
    (tmp_path / "data").mkdir()
    settings = make_settings(console={"secret_file": "data/console.key"})
    key = secret_key(settings)
    assert base64.urlsafe_b64decode((tmp_path / "data" / "console.key").read_bytes()) == key


def test_an_existing_key_file_is_read_with_its_whitespace_stripped(make_settings, tmp_path):
    key = bytes(range(32))
    path = tmp_path / "k.key"
    path.write_bytes(b"  " + base64.urlsafe_b64encode(key) + b"\n\n")
    assert secret_key(make_settings(console={"secret_file": str(path)})) == key


def test_a_key_file_made_meanwhile_by_another_process_wins(make_settings, tmp_path, monkeypatch):
    theirs = bytes(range(100, 132))
    path = tmp_path / "data" / "console.key"
    real_read = Path.read_bytes
    calls = []

    def read_bytes(self):
        calls.append(self)
        if len(calls) == 1:  # not there when we looked; there when we try to create it
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.urlsafe_b64encode(theirs) + b"\n")
            raise FileNotFoundError(self)
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert secret_key(make_settings(console={"secret_file": "data/console.key"})) == theirs
    assert base64.urlsafe_b64decode(real_read(path).strip()) == theirs  # not overwritten


# --- the client's address and HTTPS -----------------------------------------------------------------


def request_from(peer: str | None, headers: dict | None = None) -> web.Request:
    transport = SimpleNamespace(get_extra_info=lambda name, default=None: (peer, 4000) if name == "peername" and peer else default)
    return make_mocked_request("GET", "/console/", headers=headers or {}, transport=transport)


@pytest.fixture
def proxied(make_settings):
    return make_settings(console={"trusted_proxies": ["10.9.0.0/16", "127.0.0.1/8"]})


def test_without_trusted_proxies_the_peer_is_the_client(make_settings):
    settings = make_settings()
    assert client_address(request_from("127.0.0.1", {"X-Forwarded-For": "203.0.113.5"}), settings) == "127.0.0.1"
    assert client_address(request_from(None, {"X-Forwarded-For": "203.0.113.5"}), settings) == ""


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(proxied):
    assert client_address(request_from("192.0.2.1", {"X-Forwarded-For": "203.0.113.5"}), proxied) == "192.0.2.1"


def test_the_last_untrusted_hop_is_the_client(proxied):
    # Any network of the list (the second one here, given with host bits set) is trusted.
    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.5 ,, 10.9.3.4, 127.0.0.5"}
    assert client_address(request_from("127.0.0.1", headers), proxied) == "203.0.113.5"
    assert client_address(request_from("10.9.0.7", headers), proxied) == "203.0.113.5"


def test_only_trusted_hops_leave_the_peer(proxied):
    assert client_address(request_from("127.0.0.1", {"X-Forwarded-For": "10.9.3.4, 127.0.0.5"}), proxied) == "127.0.0.1"
    assert client_address(request_from("127.0.0.1"), proxied) == "127.0.0.1"  # no header at all
    assert client_address(request_from("127.0.0.1", {"X-Forwarded-For": " , "}), proxied) == "127.0.0.1"


def test_a_hop_that_is_no_address_is_kept_cut_to_64_characters(proxied):
    hop = "unknown-" + "x" * 100
    assert client_address(request_from("127.0.0.1", {"X-Forwarded-For": hop}), proxied) == hop[:64]
    assert client_address(request_from("127.0.0.1", {"X-Forwarded-For": "1.2.3.4, " + hop[:64]}), proxied) == hop[:64]


def test_https_directly_or_from_a_trusted_proxy_only(proxied, make_settings):
    assert is_https(request_from("192.0.2.1").clone(scheme="https"), proxied) is True
    assert is_https(request_from("127.0.0.1", {"X-Forwarded-Proto": "HTTPS"}), proxied) is True
    assert is_https(request_from("127.0.0.1", {"X-Forwarded-Proto": "http"}), proxied) is False
    assert is_https(request_from("127.0.0.1"), proxied) is False
    assert is_https(request_from("192.0.2.1", {"X-Forwarded-Proto": "https"}), proxied) is False
    assert is_https(request_from("127.0.0.1", {"X-Forwarded-Proto": "https"}), make_settings()) is False


def test_a_csrf_token_is_made_once_per_session():
    session = {}
    token = csrf_token(session)
    assert session == {"csrf": token} and len(token) == 43  # 32 random bytes, URL-safe base64
    assert csrf_token(session) == token
    assert csrf_token({"csrf": "theirs"}) == "theirs"
