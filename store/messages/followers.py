"""Followers for editors: the list (newest contact first) with when and how each followed, as far as
the message log says, and the units each is bound to; a follower's profile as WeChat's user/info
reports it (remark, tags, follow scene); and what erasing one would remove, for its confirmation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select

from store.db import SessionFactory
from store.messages import texts
from store.models.members import Binding, Member
from store.models.webhook import Follower, MessageLog

PAGE = 50
SUBSCRIBE_TYPES = ("event:subscribe", "event:subscribe_scan")


@dataclass(frozen=True)
class FollowerRow:
    follower: Follower
    followed_at: datetime  # the last subscribe the log holds, else the first contact
    source: str  # in words
    units: list[str] = field(default_factory=list)  # bound units' names


@dataclass(frozen=True)
class FollowerPage:
    rows: list[FollowerRow]
    total: int
    offset: int


@dataclass(frozen=True)
class Profile:
    """What user/info says (https://developers.weixin.qq.com/doc/service/api/usermanage/userinfo/api_userinfo)."""

    subscribed: bool
    followed_at: datetime | None
    scene: str
    remark: str
    tags: list[str]


@dataclass(frozen=True)
class ErasureEffect:
    openid: str
    log_rows: int
    known: bool  # a follower record or any log row exists
    units: list[str]

    def sentence(self) -> str:
        if not self.known:
            return texts.ERASE_NOTHING
        said = texts.ERASE_EFFECT.format(openid=self.openid, rows=self.log_rows)
        if self.units:
            said += texts.ERASE_BINDINGS.format(names="、".join(self.units))
        return said


def _source(row: MessageLog | None) -> str:
    if row is None:
        return texts.SOURCE_UNKNOWN
    if row.msg_type == "event:subscribe_scan":
        return texts.SOURCE_QR.format(scene=row.content or "?")
    return texts.SOURCE_SUBSCRIBE


async def _units(session, openids: list[str]) -> dict[str, list[str]]:
    rows = await session.execute(
        select(Binding.openid, Member.name).join(Member, Member.id == Binding.member_id)
        .where(Binding.openid.in_(openids), Binding.revoked_at.is_(None)).order_by(Member.name))
    out: dict[str, list[str]] = {}
    for openid, name in rows:
        out.setdefault(openid, []).append(name)
    return out


async def follower_page(
    db: SessionFactory, query: str = "", subscribed: bool | None = None, offset: int = 0, limit: int = PAGE
) -> FollowerPage:
    """Followers by latest contact, `limit` from `offset`; `query` is an openid or its beginning."""
    where = []
    if query.strip():
        where.append(Follower.openid.startswith(query.strip(), autoescape=True))
    if subscribed is not None:
        where.append(Follower.subscribed.is_(subscribed))
    async with db() as session:
        total = await session.scalar(select(func.count()).select_from(Follower).where(*where)) or 0
        followers = list(await session.scalars(
            select(Follower).where(*where).order_by(Follower.last_seen.desc(), Follower.openid)
            .offset(offset).limit(limit)))
        openids = [f.openid for f in followers]
        last = select(func.max(MessageLog.id)).where(
            MessageLog.openid.in_(openids), MessageLog.msg_type.in_(SUBSCRIBE_TYPES)).group_by(MessageLog.openid)
        subscribes = {r.openid: r for r in await session.scalars(select(MessageLog).where(MessageLog.id.in_(last)))}
        units = await _units(session, openids)
    rows = []
    for f in followers:
        event = subscribes.get(f.openid)
        rows.append(FollowerRow(f, event.at if event else f.first_seen, _source(event), units.get(f.openid, [])))
    return FollowerPage(rows, total, offset)


def profile(info: dict, tag_names: dict[int, str] | None = None) -> Profile:
    """A follower's user/info answer in editors' terms; `tag_names` from tags/get (id → name)."""
    at = info.get("subscribe_time")
    scene = info.get("subscribe_scene") or ""
    return Profile(
        subscribed=bool(info.get("subscribe")),
        followed_at=datetime.fromtimestamp(int(at), UTC) if at else None,
        scene=texts.SCENES.get(scene, scene),
        remark=info.get("remark") or "",
        tags=[(tag_names or {}).get(t, str(t)) for t in info.get("tagid_list") or []],
    )


async def erasure_effect(db: SessionFactory, openid: str) -> ErasureEffect:
    """What `bot.messagelog.forget` would remove for this follower (its two-step confirmation)."""
    async with db() as session:
        rows = await session.scalar(select(func.count()).select_from(MessageLog).where(MessageLog.openid == openid))
        record = await session.get(Follower, openid)
        units = (await _units(session, [openid])).get(openid, [])
    return ErasureEffect(openid, rows or 0, bool(rows) or record is not None, units)
