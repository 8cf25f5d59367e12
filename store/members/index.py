"""The in-memory lookup index: what followers type (a full name, a short name, a name without its
province or city, pinyin initials, a name with one wrong character, a credit code) → member units.

Every process keeps one index (`services.members`) and rebuilds it when the registry version in
the database changes, checked at most once a second, so an import made by `main.py members import`
in another process is seen without a restart. The index holds public facts only.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.refresh import Refresh
from store.db import SessionFactory
from store.members import credit_code
from store.models.members import Member, MemberRegistry

CHECK_EVERY_SECONDS = 1.0
MAX_INITIALS = 32  # spellings of one name's initials kept when several characters are heteronyms
MIN_TYPO_LENGTH = 4  # shorter names are too close to each other for "one character off" to mean much
# A suggestion for a name we do not know must share this much of what distinguishes the query (its
# characters weighted by rarity in the registry, its province and city left out): "火星协会" shares
# only the 协会 every other unit has, and gets no suggestion.
SUGGEST_FLOOR = 0.6

PROVINCES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 "
    "四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
).split()
_PROVINCE = re.compile(
    rf"^({'|'.join(PROVINCES)})(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
)
_CITY = re.compile(r"^[\u4e00-\u9fff]{2,3}?市")
_REGION_UNIT = re.compile(r"[\u4e00-\u9fff]+?(?:省|自治州|市|区|县|旗|盟)")
_NOT_NAME = re.compile(r"[^0-9a-z\u3400-\u9fff]")


@dataclass(frozen=True)
class Entry:
    """What anyone may know about a member unit (store/members/status.py decides what else is shown)."""

    id: int
    name: str
    credit_code: str
    kind: str
    role: str
    grade: str | None
    grade_year: int | None
    region: str
    retired: bool


@dataclass(frozen=True)
class Result:
    """How the query matched (code, name, alias, initials, partial, typo, bad_code, none), the units it
    matched (best first), and for no match the closest names."""

    how: str
    entries: tuple[Entry, ...] = ()
    suggestions: tuple[Entry, ...] = ()


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, nothing but letters, digits and Chinese characters."""
    return _NOT_NAME.sub("", unicodedata.normalize("NFKC", text).lower())


def aliases(name: str, region: str = "") -> set[str]:
    """Other names people use: without the province ("婚姻家庭协会" from "浙江省婚姻家庭协会"),
    without province and city, the province without 省 ("浙江婚姻家庭协会"). Normalised."""
    units = _REGION_UNIT.findall(normalize(region))
    prefixes = sorted({u for u in units} | {u[:-1] for u in units if len(u) > 2}, key=len, reverse=True)
    out: set[str] = set()
    if m := _PROVINCE.match(name):
        if m.group(2):
            out.add(m.group(1) + name[m.end() :])
    rest = name
    while True:
        m = _PROVINCE.match(rest) or _CITY.match(rest)
        end = m.end() if m else next((len(p) for p in prefixes if rest.startswith(p)), 0)
        if not end:
            break
        rest = rest[end:]
        if len(rest) >= 4:
            out.add(rest)
    out.discard(name)
    return out


@lru_cache(maxsize=8192)
def _char_initials(ch: str) -> tuple[str, ...]:
    if "\u3400" <= ch <= "\u9fff":
        readings = pinyin(ch, style=Style.FIRST_LETTER, heteronym=True)[0]
        return tuple(dict.fromkeys(r[:1].lower() for r in readings if r))
    return (ch,)


def initials(name: str) -> set[str]:
    """Every spelling of the name's pinyin initials: the usual reading, and for heteronyms (会 h/k,
    行 x/h, 长 c/z …) the other readings too, at most MAX_INITIALS spellings."""
    usual = "".join(r[:1] for r in lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()
    options = [_char_initials(ch) for ch in name]
    count = 1
    for o in options:
        count *= len(o)
    if count <= MAX_INITIALS:
        return {usual} | {"".join(p) for p in itertools.product(*options)}
    # Too many combinations: the usual reading with one character read differently at a time.
    out = {usual}
    for i, o in enumerate(options):
        for letter in o:
            out.add(usual[:i] + letter + usual[i + 1 :])
    return set(itertools.islice(out, MAX_INITIALS * 4))


def _deletions(key: str) -> set[str]:
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


def _within_one(a: str, b: str) -> bool:
    """Edit distance at most 1 (one character wrong, missing, extra, or two neighbours swapped)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _share(weights: dict[str, float], name: str) -> float:
    total = sum(weights.values())
    return sum(w for ch, w in weights.items() if ch in name) / total if total else 0.0


@dataclass
class MemberIndex:
    entries: dict[int, Entry] = field(default_factory=dict)
    by_code: dict[str, Entry] = field(default_factory=dict)
    by_name: dict[str, set[int]] = field(default_factory=dict)
    by_alias: dict[str, set[int]] = field(default_factory=dict)
    by_initials: dict[str, set[int]] = field(default_factory=dict)
    deletions: dict[str, set[str]] = field(default_factory=dict)  # one character deleted → name keys
    by_bigram: dict[str, set[int]] = field(default_factory=dict)
    names: list[tuple[str, int]] = field(default_factory=list)
    char_count: Counter[str] = field(default_factory=Counter)  # character → names that contain it
    role_rank: dict[str, int] = field(default_factory=dict)  # `[members] roles`, highest first

    @classmethod
    def build(cls, entries: list[Entry], roles: Sequence[str] = ()) -> MemberIndex:
        """Build from entries (CPU work: run it in a thread for a large registry); `roles` ranks
        units of one name length (`[members] roles`, highest first)."""
        index = cls(role_rank={r: n for n, r in enumerate(roles)})
        for e in entries:
            index.entries[e.id] = e
            index.by_code[e.credit_code] = e
            name = normalize(e.name)
            index.names.append((name, e.id))
            index.by_name.setdefault(name, set()).add(e.id)
            others = aliases(name, e.region)
            for alias in others:
                index.by_alias.setdefault(alias, set()).add(e.id)
            for key in {name} | others:
                for spelling in initials(key):
                    index.by_initials.setdefault(spelling, set()).add(e.id)
                if len(key) >= MIN_TYPO_LENGTH:
                    for d in _deletions(key):
                        index.deletions.setdefault(d, set()).add(key)
            for bigram in _bigrams(name):
                index.by_bigram.setdefault(bigram, set()).add(e.id)
            index.char_count.update(set(name))
        return index

    def __len__(self) -> int:
        return len(self.entries)

    def _ranked(self, ids) -> tuple[Entry, ...]:
        found = [self.entries[i] for i in set(ids)]
        found.sort(key=lambda e: (e.retired, len(e.name), self.role_rank.get(e.role, len(self.role_rank)), e.name))
        return tuple(found)

    def _ids_of_key(self, key: str) -> set[int]:
        return self.by_name.get(key, set()) | self.by_alias.get(key, set())

    def lookup(self, query: str) -> Result:
        code = credit_code.normalize(query)
        if len(code) == 18 and code.isalnum() and any(c.isdigit() for c in code):
            if code in self.by_code:
                return Result("code", (self.by_code[code],))
            return Result("none" if credit_code.problem(code) is None else "bad_code")
        q = normalize(query)
        if not q:
            return Result("none")
        if q in self.by_name:
            return Result("name", self._ranked(self.by_name[q]))
        if q in self.by_alias:
            return Result("alias", self._ranked(self.by_alias[q]))
        if q.isascii() and q.isalpha() and q in self.by_initials:
            return Result("initials", self._ranked(self.by_initials[q]))
        if len(q) >= 2 and not q.isascii():
            partial = [i for name, i in self.names if q in name]
            if partial:
                return Result("partial", self._ranked(partial))
        if len(q) >= MIN_TYPO_LENGTH:
            keys = set(self.deletions.get(q, ()))
            for d in _deletions(q):
                keys |= self.deletions.get(d, set())
                if d in self.by_name or d in self.by_alias:
                    keys.add(d)
            ids = {i for k in keys if _within_one(q, k) for i in self._ids_of_key(k)}
            if ids:
                return Result("typo", self._ranked(ids))
        return Result("none", suggestions=self.closest(q))

    def closest(self, q: str, limit: int = 3) -> tuple[Entry, ...]:
        """The names sharing the most character pairs with `q`, rare pairs counting more, among those
        that share at least SUGGEST_FLOOR of what distinguishes `q` (`similarity`)."""
        scores: Counter[int] = Counter()
        for bigram in _bigrams(q):
            posting = self.by_bigram.get(bigram, ())
            if posting and len(posting) <= max(200, len(self.entries) // 10):
                weight = 1.0 / len(posting)
                for i in posting:
                    scores[i] += 1.0 + weight
        best = sorted(scores.items(), key=lambda kv: (-kv[1], len(self.entries[kv[0]].name)))
        weights = self._weights(q)
        out = []
        for i, _ in best[: limit * 10]:
            if _share(weights, normalize(self.entries[i].name)) >= SUGGEST_FLOOR:
                out.append(self.entries[i])
                if len(out) == limit:
                    break
        return tuple(out)

    def similarity(self, q: str, name: str) -> float:
        """How much of `q` `name` contains (both normalised), 0 to 1: see `_weights`."""
        return _share(self._weights(q), name)

    def _weights(self, q: str) -> dict[str, float]:
        """What distinguishes `q`: its characters once its province and city are left out (an
        alias), each weighted by how rare it is among the registry's names."""
        core = min(aliases(q) | {q}, key=len)
        n = len(self.entries) or 1
        return {ch: math.log(1 + n / max(1, self.char_count[ch])) for ch in set(core)}

    def unique(self, query: str) -> Entry | None:
        """The unit this text names on its own (a full name, an alias or a credit code that fits
        exactly one unit), for answering a bare unit name; None when it does not name one unit."""
        q = normalize(query)
        if len(q) < 4:
            return None
        code = credit_code.normalize(query)
        if code in self.by_code:
            return self.by_code[code]
        ids = self.by_name.get(q) or self.by_alias.get(q)
        return self.entries[next(iter(ids))] if ids and len(ids) == 1 else None


# --- the registry version ---------------------------------------------------------------------------


async def registry_version(session: AsyncSession) -> int:
    return await session.scalar(select(MemberRegistry.version).where(MemberRegistry.id == 1)) or 0


async def bump_version(session: AsyncSession, now: datetime) -> None:
    """Tell every process's index that the registry changed (call inside the changing transaction)."""
    result = await session.execute(
        update(MemberRegistry)
        .where(MemberRegistry.id == 1)
        .values(version=MemberRegistry.version + 1, updated_at=now)
    )
    if result.rowcount == 0:  # a database made without the migration's first row
        session.add(MemberRegistry(id=1, version=1, updated_at=now))
        await session.flush()


async def load_entries(session: AsyncSession) -> list[Entry]:
    rows = await session.execute(
        select(
            Member.id,
            Member.name,
            Member.credit_code,
            Member.kind,
            Member.role,
            Member.grade,
            Member.grade_year,
            Member.region,
            Member.retired,
        )
    )
    return [Entry(*row) for row in rows]


class MemberLookup:
    """One process's index, rebuilt when the registry version changes."""

    def __init__(
        self,
        db: SessionFactory,
        clock: Clock,
        check_every: float = CHECK_EVERY_SECONDS,
        roles: Sequence[str] = (),
    ) -> None:
        self.db = db
        self.clock = clock
        self.roles = tuple(roles)
        self.check_every = check_every
        self.index: MemberIndex | None = None
        self.version = -1
        self._checked = float("-inf")
        self._lock = asyncio.Lock()
        self._refreshing = Refresh("member index", self.current, clock, check_every)

    async def current(self) -> MemberIndex:
        """The index, checking the registry version at most every `check_every` seconds."""
        if self.index is not None and (
            self.clock.monotonic() - self._checked < self.check_every or self._lock.locked()
        ):
            return self.index  # while another task rebuilds, the previous index still answers
        async with self._lock:
            if self.index is None or self.clock.monotonic() - self._checked >= self.check_every:
                async with self.db() as session:
                    version = await registry_version(session)
                    if self.index is None or version != self.version:
                        entries = await load_entries(session)
                    else:
                        entries = None
                if entries is not None:
                    self.index = await asyncio.to_thread(MemberIndex.build, entries, self.roles)
                    self.version = version
                self._checked = self.clock.monotonic()
        assert self.index is not None
        return self.index

    async def lookup(self, query: str) -> Result:
        return (await self.current()).lookup(query)

    async def refresh_soon(self) -> None:
        """Before a message is routed: `current()`, never holding the message up for long (the
        index built before answers meanwhile, and while the database is down)."""
        await self._refreshing()
