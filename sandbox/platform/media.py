"""`media/uploadimg` (images inside an article body) and `material/add_material` (permanent image and
thumb materials): type sniffed from the bytes, size limits, files kept content-addressed under /mmbiz/.
Rules from 上传图文消息图片
(https://developers.weixin.qq.com/doc/service/api/material/permanent/api_uploadimage) and 新增永久素材
(https://developers.weixin.qq.com/doc/service/api/material/permanent/api_addmaterial)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from typing import TYPE_CHECKING

from sandbox.platform.errors import WxError
from sandbox.platform.limits import IMAGE_MATERIAL_MAX, THUMB_MAX, UPLOADIMG_MAX

if TYPE_CHECKING:
    from sandbox.platform.core import Platform


def sniff_image(data: bytes) -> str | None:
    """The image type by content (never by file name): jpg, png, gif, bmp or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    return None


async def _store_file(p: Platform, data: bytes, ext: str) -> tuple[str, str]:
    name = f"{hashlib.sha256(data).hexdigest()}.{ext}"
    await asyncio.to_thread(p.store.write_file, name, data)
    return name, f"{p.base_url}/mmbiz/{name}"


async def uploadimg(p: Platform, query: dict, body: dict, files: dict) -> dict:
    if "media" not in files:
        raise WxError(41005)
    _, data = files["media"]
    kind = sniff_image(data)
    if kind not in ("jpg", "png"):
        raise WxError(40005)
    if len(data) >= UPLOADIMG_MAX:
        raise WxError(40009)
    name, url = await _store_file(p, data, kind)
    image = p.state["images"].setdefault(name, {"url": url, "size": len(data), "created_at": p.now()})
    return {"url": image["url"]}


async def add_material(p: Platform, query: dict, body: dict, files: dict) -> dict:
    mtype = query.get("type")
    if mtype not in ("image", "thumb"):
        # voice/video are not used by the bot; refuse clearly rather than pretend.
        raise WxError(40004)
    if "media" not in files:
        raise WxError(41005)
    filename, data = files["media"]
    kind = sniff_image(data)
    if mtype == "thumb":
        if kind != "jpg":
            raise WxError(40005)
        if len(data) > THUMB_MAX:
            raise WxError(40009)
    else:
        if kind is None:
            raise WxError(40005)
        if len(data) > IMAGE_MATERIAL_MAX:
            raise WxError(40009)
    name, url = await _store_file(p, data, kind)
    media_id = secrets.token_urlsafe(32)
    p.state["materials"][media_id] = {"type": mtype, "file": name, "url": url, "size": len(data),
                                      "filename": filename, "created_at": p.now()}
    return {"media_id": media_id, "url": url} if mtype == "image" else {"media_id": media_id}


ENDPOINTS = {"media/uploadimg": uploadimg, "material/add_material": add_material}
