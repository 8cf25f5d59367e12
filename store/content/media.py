"""Images stored once: the file under `[content] media_dir` named by the bytes' sha256, and one Image
row per distinct image, whoever stores it (the importer, the demo, an editor's upload)."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path

from PIL import Image as PILImage
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from store.content.fetch import FetchError
from store.db import SessionFactory
from store.models.content import Image

_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "GIF": ("image/gif", "gif"),
            "WEBP": ("image/webp", "webp"), "BMP": ("image/bmp", "bmp")}  # fmt: skip


def inspect_image(data: bytes) -> tuple[str, str, str, int, int]:
    """(sha256, mime, extension, width, height); FetchError when Pillow cannot read it."""
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            fmt, (w, h) = img.format, img.size
            img.verify()
    except Exception as e:
        raise FetchError(f"not a readable image ({type(e).__name__})") from None
    if fmt not in _FORMATS:
        raise FetchError(f"unsupported image format {fmt}")
    mime, ext = _FORMATS[fmt]
    return hashlib.sha256(data).hexdigest(), mime, ext, w, h


def media_path(sha: str, ext: str) -> str:
    return f"{sha[:2]}/{sha[2:4]}/{sha}.{ext}"


def _write_file(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)  # atomic: a reader never sees half an image


async def store_image(db: SessionFactory, media_dir: Path, data: bytes, original_url: str = "") -> Image:
    """Store image bytes once, named by their sha256 (file under media_dir + Image row) → the row.
    FetchError when the bytes are not an image Pillow can read."""
    sha, mime, ext, width, height = await asyncio.to_thread(inspect_image, data)
    rel = media_path(sha, ext)
    await asyncio.to_thread(_write_file, media_dir, rel, data)
    try:
        async with db() as session, session.begin():
            image = (await session.execute(select(Image).where(Image.sha256 == sha))).scalar_one_or_none()
            if image is None:
                web = "://" in original_url and not original_url.startswith("file:")
                image = Image(sha256=sha, original_url=original_url if web else "", path=rel, size=len(data),
                              mime=mime, width=width, height=height)  # fmt: skip
                session.add(image)
    except IntegrityError:  # another process stored the same bytes a moment ago
        return await _image_by_sha(db, sha)
    return image


async def _image_by_sha(db: SessionFactory, sha: str) -> Image:
    async with db() as session:
        return (await session.execute(select(Image).where(Image.sha256 == sha))).scalar_one()
