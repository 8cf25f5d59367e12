"""The one xlsx writer of the figures' tables: named sheets of rows into a workbook, written to a file
(the CLI's `--xlsx`) or to memory (the console's downloads). Blocking: run it in a thread."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

Sheets = Sequence[tuple[str, Sequence[Sequence[Any]]]]  # (sheet name, rows), in order


def write(target: Path | IO[bytes], sheets: Sheets) -> None:
    """One sheet per (name, rows), in order."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        sheet = wb.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    wb.save(target)


def to_bytes(sheets: Sheets) -> bytes:
    out = io.BytesIO()
    write(out, sheets)
    return out.getvalue()


def pick(sheets: Sheets, name: str | None) -> list[tuple[str, Sequence[Sequence[Any]]]]:
    """The sheets, or only the one named `name` (none when no sheet has that name)."""
    return [s for s in sheets if name is None or s[0] == name]
