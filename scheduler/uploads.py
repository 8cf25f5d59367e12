"""Images on their way to WeChat: converted to what each endpoint accepts, uploaded once per account.

The cache key is the image's sha256 plus the account (`api_base_url` + appid), so a rehearsal on
the local platform never hands its URLs to the real account, and an image shown in ten articles is
uploaded once. A shared lock per key keeps two processes preparing pushes from uploading it twice.
"""

from __future__ import annotations

import asyncio
import io

from PIL import Image as PILImage
from PIL import ImageDraw
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.services import Services
from store.content.importer import store_image
from store.models.content import Image, ImageUpload

# media/uploadimg takes jpg/png "< 1 MB"; we stay under 1,000,000 bytes in case MB means 10^6.
UPLOADIMG_MAX = 1_000_000
# add_material type=thumb: JPG of at most 64 KB.
THUMB_MAX = 64 * 1024
# add_material type=image allows 10 MB today, older copies of the docs say 2 MB: we stay under 2 MB.
MATERIAL_MAX = 2 * 1024 * 1024
COVER_SIZE = (900, 383)  # WeChat's 2.35:1 cover


def _encode(img: PILImage.Image, fmt: str, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True)
    else:
        img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def fit_image(data: bytes, formats: tuple[str, ...], limit: int) -> tuple[bytes, str]:
    """`data` as one of `formats` (PIL names) and under `limit` bytes → (bytes, extension).
    Kept as is when it already fits; otherwise re-encoded (JPEG unless it has transparency and
    PNG is allowed), then lower JPEG quality, then smaller, until it fits."""
    with PILImage.open(io.BytesIO(data)) as src:
        fmt = src.format
        if fmt in formats and len(data) < limit:
            return data, "jpg" if fmt == "JPEG" else fmt.lower()
        src.seek(0)  # a GIF's first frame
        img = src.convert("RGBA") if src.mode in ("RGBA", "LA", "P") else src.convert("RGB")
    alpha = img.mode == "RGBA" and img.getextrema()[3][0] < 255
    target = "PNG" if alpha and "PNG" in formats else "JPEG"
    if target == "JPEG":
        img = img.convert("RGB")
    while True:
        for quality in (85, 75, 60) if target == "JPEG" else (0,):
            out = _encode(img, target, quality)
            if len(out) < limit:
                return out, "jpg" if target == "JPEG" else "png"
        if min(img.size) <= 16:
            raise ValueError("image cannot be made small enough")
        img = img.resize((max(1, int(img.width * 0.8)), max(1, int(img.height * 0.8))), PILImage.LANCZOS)


def default_cover_png() -> bytes:
    """A plain cover for articles without an image (drafts require one): the federation's blue."""
    img = PILImage.new("RGB", COVER_SIZE, (22, 84, 160))
    draw = ImageDraw.Draw(img)
    for i in range(0, COVER_SIZE[0] + COVER_SIZE[1], 40):
        draw.line([(i, 0), (i - COVER_SIZE[1], COVER_SIZE[1])], fill=(34, 102, 182), width=12)
    draw.rectangle([60, 150, 840, 233], fill=(255, 255, 255))
    return _encode(img, "PNG")


class UploadCache:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.account = services.settings.wechat.account_key
        self.media_dir = services.settings.path(services.settings.content.media_dir)

    async def cached(self, sha256: str, kinds: tuple[str, ...]) -> ImageUpload | None:
        async with self.services.db() as session:
            stmt = select(ImageUpload).where(
                ImageUpload.sha256 == sha256, ImageUpload.account == self.account, ImageUpload.kind.in_(kinds)
            )
            return (await session.execute(stmt)).scalars().first()

    async def body_image_url(self, image: Image) -> str:
        """A URL from media/uploadimg for an <img> in an article body."""
        row = await self._once(image, ("uploadimg",), self._upload_body_image)
        return row.url

    async def cover_media_id(self, image: Image) -> str:
        """A permanent material media_id for a cover: type=thumb when the image is a JPG ≤ 64 KB
        (WeChat's thumb rule), type=image otherwise."""
        row = await self._once(image, ("thumb", "image"), self._upload_cover)
        return row.media_id

    async def default_cover(self) -> Image:
        return await store_image(self.services.db, self.media_dir, await asyncio.to_thread(default_cover_png))

    async def _once(self, image: Image, kinds: tuple[str, ...], upload) -> ImageUpload:
        if (row := await self.cached(image.sha256, kinds)) is not None:
            return row
        async with self.services.shared.lock(
            f"upload:{self.account}:{image.sha256}:{kinds[0]}", ttl=120, timeout=120
        ):
            if (row := await self.cached(image.sha256, kinds)) is not None:
                return row  # another worker uploaded it while we waited
            kind, url, media_id = await upload(image)
            row = ImageUpload(sha256=image.sha256, account=self.account, kind=kind, url=url, media_id=media_id,
                              created_at=self.services.clock.now())  # fmt: skip
            try:
                async with self.services.db() as session, session.begin():
                    session.add(row)
            except IntegrityError:  # a process without our lock (should not happen) got there first
                return await self.cached(image.sha256, kinds)
            return row

    async def _read(self, image: Image) -> bytes:
        return await asyncio.to_thread((self.media_dir / image.path).read_bytes)

    async def _upload_body_image(self, image: Image) -> tuple[str, str, str]:
        data, ext = await asyncio.to_thread(
            fit_image, await self._read(image), ("JPEG", "PNG"), UPLOADIMG_MAX
        )
        url = await self.services.api.upload_image(data, f"{image.sha256[:16]}.{ext}")
        return "uploadimg", url, ""

    async def _upload_cover(self, image: Image) -> tuple[str, str, str]:
        data = await self._read(image)
        if image.mime == "image/jpeg" and len(data) <= THUMB_MAX:
            media_id, url = await self.services.api.add_material(
                data, f"{image.sha256[:16]}.jpg", type="thumb"
            )
            return "thumb", url, media_id
        data, ext = await asyncio.to_thread(fit_image, data, ("JPEG", "PNG", "GIF", "BMP"), MATERIAL_MAX)
        media_id, url = await self.services.api.add_material(data, f"{image.sha256[:16]}.{ext}", type="image")
        return "image", url, media_id
