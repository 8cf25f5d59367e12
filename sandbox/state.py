"""The local platform's memory on disk: one JSON document at `[sandbox] state_path`, written atomically
(temporary file + fsync + rename) so a crash mid-write leaves the previous state intact, plus the
uploaded image files in a folder next to it."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class StateStore:
    """Reads and writes the platform state; the callers decide when (Platform.changed, Platform.save_now)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # data/sandbox.json → data/sandbox-files/ (uploaded images, served at /mmbiz/...)
        self.files_dir = self.path.with_name(self.path.stem + "-files")

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none yet. A corrupt file is an error, not a reset:
        silently starting empty would lose what editors rehearsed."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return json.loads(text)

    def save_text(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def write_file(self, name: str, data: bytes) -> None:
        """Store an uploaded file under its content-addressed name (idempotent)."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        target = self.files_dir / name
        if target.exists():
            return
        fd, tmp = tempfile.mkstemp(prefix=name + ".", suffix=".tmp", dir=self.files_dir)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)

    def read_file(self, name: str) -> bytes | None:
        if "/" in name or "\\" in name or name.startswith("."):
            return None
        try:
            return (self.files_dir / name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None
