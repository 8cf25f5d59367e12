"""Fixtures shared by every test: no internet, settings, and databases (SQLite always; PostgreSQL and
Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set, or on CI where they must be reachable)."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from pathlib import Path

import pytest

from core.config import Settings, parse_settings

pytest_plugins = ["tests.fixtures.cli", "tests.fixtures.members", "tests.fixtures.sandbox", "tests.fixtures.simulator"]

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("TEST_DATABASE_URL") or (
    "postgresql+asyncpg://root@127.0.0.1:5432/test" if CI else ""
)
REDIS_URL = os.environ.get("TEST_REDIS_URL") or ("redis://127.0.0.1:6379/15" if CI else "")

# --- no test reaches the internet -----------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_local(host) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address) -> None:
    if isinstance(address, tuple) and not _is_local(address[0]):
        raise ConnectionRefusedError(f"tests may not reach {address[0]}: loopback only")


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    def connect(self, address):
        _check(address)
        return _real_connect(self, address)

    def connect_ex(self, address):
        _check(address)
        return _real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host if not isinstance(host, bytes) else host.decode()):
            raise socket.gaierror(f"tests may not resolve {host!r}: loopback only")
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# --- settings --------------------------------------------------------------------------------------

AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def base_config(tmp: Path, **sections) -> dict:
    cfg = {
        "wechat": {
            "appid": "wxtest0000000001",
            "secret": "test-secret",
            "token": "testtoken",
            "encoding_aes_key": AES_KEY,
            "mode": "compatible",  # tests send plaintext and encrypted messages alike
            "account_id": "gh_test00000001",
            "api_base_url": "http://127.0.0.1:9",
        },
        "database": {"url": f"sqlite+aiosqlite:///{tmp / 'bot.db'}"},
        "sandbox": {"state_path": str(tmp / "sandbox.json"), "port": 9},
        "content": {"media_dir": str(tmp / "media")},
    }
    for name, values in sections.items():
        if isinstance(values, dict):
            cfg[name] = {**cfg.get(name, {}), **values}
        else:
            cfg[name] = values
    return cfg


@pytest.fixture
def make_settings(tmp_path):
    """make_settings(wechat={...}, server={...}) → Settings with test defaults in tmp_path."""

    def make(**sections) -> Settings:
        return parse_settings(base_config(tmp_path, **sections), base_dir=tmp_path, environ={})

    return make


# --- databases -------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


def _pg_unavailable(reason: str):
    if CI:
        pytest.fail(f"PostgreSQL is required on CI and unreachable: {reason}")
    pytest.skip(reason)


def _in_thread(coro_fn):
    """Run an async admin call on its own loop, so sync fixtures can use asyncpg."""
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn()).result()


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database for this test (dropped afterwards)."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL=postgresql+asyncpg://user@host/db")
    import asyncpg

    admin_dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"t_{uuid.uuid4().hex[:16]}"

    async def create():
        conn = await asyncpg.connect(admin_dsn, timeout=5)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop():
        conn = await asyncpg.connect(admin_dsn, timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    try:
        _in_thread(create)
    except Exception as e:
        _pg_unavailable(f"cannot use {admin_dsn}: {e}")
    base, _, _ = PG_URL.rpartition("/")
    yield f"{base}/{name}"
    _in_thread(drop)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The same test on SQLite and on PostgreSQL (empty databases, not yet migrated)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
async def redis_url():
    if not REDIS_URL:
        pytest.skip("Redis tests skipped: set TEST_REDIS_URL=redis://host:6379/15")
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as e:
        if CI:
            pytest.fail(f"Redis is required on CI and unreachable at {REDIS_URL}: {e}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {e}")
    await client.flushdb()
    await client.aclose()
    return REDIS_URL


@pytest.fixture
async def migrated(sqlite_url) -> str:
    """A SQLite database at the latest schema."""
    from store.migrate import upgrade

    await upgrade(sqlite_url)
    return sqlite_url
