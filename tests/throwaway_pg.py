"""A PostgreSQL server of the test's own, on its own port, that the test can kill and start again
(the outage tests). `initdb` and `postgres` refuse to run as root, so as root they run as the
`postgres` user; the machine's own server (5432) is never touched.

    pg = ThrowawayPostgres.create()      # or pytest.skip / fail with the reason
    await pg.start(); url = pg.url
    await pg.kill()                      # SIGKILL, the whole process group
    await pg.start()                     # crash recovery, same data
    pg.remove()
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Unavailable(Exception):
    """Why a throwaway server cannot run here."""


class ThrowawayPostgres:
    def __init__(self, bindir: Path, root: Path, user: str | None) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.user = user  # run as this user (None: as ourselves)
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None

    @classmethod
    def create(cls) -> ThrowawayPostgres:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb") or ""]
        if not found[-1]:
            raise Unavailable("no initdb (PostgreSQL server binaries) on this machine")
        bindir = Path(found[-1]).parent
        user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and there is no postgres user for initdb") from None
            user = "postgres"
        root = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
        if user:
            shutil.chown(root, user)
        pg = cls(bindir, root, user)
        result = subprocess.run(
            [str(bindir / "initdb"), "-D", str(pg.data), "-A", "trust", "-U", "postgres", "--no-sync"],
            user=user, capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0:
            pg.remove()
            raise Unavailable(f"initdb failed: {result.stderr.strip()[-300:]}")
        return pg

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _spawn(self) -> subprocess.Popen:
        """The server in a session of its own, so `kill()` takes its children with it."""
        return subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"],
            user=self.user, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    async def start(self, timeout: float = 30.0) -> None:
        self.proc = self._spawn()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        import asyncpg

        while True:
            try:
                conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", timeout=2)
                await conn.close()
                return
            except Exception:
                if self.proc.poll() is not None or loop.time() > deadline:
                    raise Unavailable("the throwaway PostgreSQL did not start") from None
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        """SIGKILL the server and its children, as a crash or an OOM kill would."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        await asyncio.to_thread(self.proc.wait)
        self.proc = None

    def remove(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)
