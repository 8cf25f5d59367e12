"""Images stored once: the file under `[content] media_dir` named by the bytes' sha256, and one Image
row per distinct image, whoever stores it (the importer, the demo, an editor's upload)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.content import texts
from store.content.fetch import FetchError
from store.db import SessionFactory
from store.models.content import Image, ImageUpload

_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "GIF": ("image/gif", "gif"),
            "WEBP": ("image/webp", "webp"), "BMP": ("image/bmp", "bmp")}  # fmt: skip


def inspect_image(data: bytes) -> tuple[str, str, str, int, int]:
    """(sha256, mime, extension, width, height); FetchError when Pillow cannot read it."""
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            fmt, (w, h) = img.format, img.size
            img.verify()
    except Exception as e:
        raise FetchError(texts.NOT_READABLE_IMAGE.format(error=type(e).__name__)) from None
    if fmt not in _FORMATS:
        raise FetchError(texts.UNSUPPORTED_IMAGE.format(fmt=fmt))
    mime, ext = _FORMATS[fmt]
    return hashlib.sha256(data).hexdigest(), mime, ext, w, h


def media_path(sha: str, ext: str) -> str:
    return f"{sha[:2]}/{sha[2:4]}/{sha}.{ext}"


def _write_file(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name of this writer's own: two imports of one image (the same bytes, so the same
    # name) at once must not share a half-written file; whichever rename lands last wins.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)  # atomic: a reader never sees half an image
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class ImageFile:
    """Image bytes inspected and written under media_dir; its row may not exist yet."""

    sha256: str
    path: str
    size: int
    mime: str
    width: int
    height: int
    original_url: str


async def save_image_file(media_dir: Path, data: bytes, original_url: str = "") -> ImageFile:
    """Inspect the bytes and write them once, named by their sha256. FetchError when the bytes are
    not an image Pillow can read."""
    web = "://" in original_url and not original_url.startswith("file:")
    # One trip to a thread, not two: an import stores an image a page, and each trip costs the
    # event loop a wake-up.
    return await asyncio.to_thread(_save_image_file, media_dir, data, original_url if web else "")


def _save_image_file(media_dir: Path, data: bytes, original_url: str) -> ImageFile:
    sha, mime, ext, width, height = inspect_image(data)
    rel = media_path(sha, ext)
    _write_file(media_dir, rel, data)
    return ImageFile(sha, rel, len(data), mime, width, height, original_url)


async def image_rows(session: AsyncSession, files: list[ImageFile]) -> dict[str, Image]:
    """sha256 → the Image row of each file, inserting the ones not stored yet (in the caller's
    transaction; IntegrityError when another process stored the same bytes a moment ago)."""
    shas = sorted({f.sha256 for f in files})
    rows = {i.sha256: i for i in (await session.execute(select(Image).where(Image.sha256.in_(shas)))).scalars()}
    for f in files:
        if f.sha256 not in rows:
            rows[f.sha256] = Image(sha256=f.sha256, original_url=f.original_url, path=f.path, size=f.size,
                                   mime=f.mime, width=f.width, height=f.height)  # fmt: skip
            session.add(rows[f.sha256])
    await session.flush()
    return rows


async def store_image(db: SessionFactory, media_dir: Path, data: bytes, original_url: str = "") -> Image:
    """Store image bytes once (file under media_dir + Image row) → the row. FetchError when the bytes
    are not an image Pillow can read."""
    file = await save_image_file(media_dir, data, original_url)
    for attempt in (1, 2):
        try:
            async with db() as session, session.begin():
                return (await image_rows(session, [file]))[file.sha256]
        except IntegrityError:  # another process stored the same bytes a moment ago: read its row
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def hosted_url(session: AsyncSession, image_id: int | None, account: str) -> str:
    """The image as WeChat already hosts it for this account (`media/uploadimg`'s URL), else the
    website's original ("" when there is no such image)."""
    image = await session.get(Image, image_id) if image_id is not None else None
    if image is None:
        return ""
    uploaded = await session.scalar(
        select(ImageUpload.url).where(
            ImageUpload.sha256 == image.sha256, ImageUpload.account == account, ImageUpload.url != ""
        ).limit(1)
    )
    return uploaded or image.original_url
