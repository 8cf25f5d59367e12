"""Demo articles for `make run`: federation news written for this project, with pictures drawn
locally with Pillow. Only added, never updated: an article that exists is left as it is."""

from __future__ import annotations

import asyncio
import io
from datetime import date

from PIL import Image as PILImage
from PIL import ImageDraw
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.services import Services
from store.content.extract import Extracted, block_text, make_digest
from store.content.importer import Importer
from store.models.content import Article

BASE = "https://demo.example.org/news/"  # example.org: reserved for examples, never a real site

# (slug, title, date, 来源, colour of the picture, paragraphs; "{img}" marks where the picture goes)
DEMO = [
    ("2026-1101", "总会启动2026年度社会组织等级评估申报工作", date(2026, 11, 2), "总会秘书处", (40, 110, 190), [
        "近日，总会发布通知，启动2026年度社会组织等级评估申报工作。符合条件的单位会员可在12月15日前提交申报材料。",
        "{img}",
        "本年度评估继续采用“材料审核加实地考察”的方式，重点关注内部治理、财务管理、信息公开和社会评价四个方面。",
        "秘书处提醒，首次参评的单位可先参加评估辅导讲座，了解指标要求和材料清单。"]),
    ("2026-1102", "第六届会员大会暨年会将于12月举行", date(2026, 11, 9), "总会秘书处", (190, 70, 60), [
        "总会第六届会员大会暨年会定于12月20日举行，届时将审议年度工作报告，表彰优秀会员单位。",
        "{img}",
        "本届年会以“协同共进，服务为本”为主题，设置主论坛和三个分论坛，分别讨论人才培养、数字化转型和公益项目管理。",
        "请各会员单位于12月5日前报送参会回执。"]),
    ("2026-1103", "新成立社会组织负责人培训班顺利结业", date(2026, 11, 14), "培训部", (50, 150, 90), [
        "为期三天的新成立社会组织负责人培训班日前结业，来自各地的八十余名学员参加学习。",
        "课程涵盖章程制定、民主决策、财务规范和等级评估准备等内容，授课老师结合案例逐项讲解。",
        "{img}",
        "结业座谈会上，学员们表示，培训帮助他们理清了机构规范运作的思路。"]),
    ("2026-1104", "“益起来”公益项目对接会在总会举行", date(2026, 11, 18), "公益发展部", (230, 150, 40), [
        "11月17日，“益起来”公益项目对接会在总会举行，二十个公益项目与爱心企业进行了现场交流。",
        "{img}",
        "对接会上，社区养老、青少年阅读和乡村助学等项目获得较多关注，现场达成合作意向十二项。",
        "总会将持续跟踪项目落地情况，为社会组织和企业搭建长期合作的平台。"]),
    ("2026-1105", "总会党支部开展“学思践悟”主题党日活动", date(2026, 11, 21), "总会党支部", (170, 40, 50), [
        "总会党支部组织全体党员开展“学思践悟”主题党日活动，集体学习社会组织党建工作的有关要求。",
        "{img}",
        "党员们围绕如何以党建引领社会组织规范发展展开讨论，并就服务会员提出了具体建议。"]),
    ("2026-1106", "会员服务中心推出线上咨询服务", date(2026, 11, 25), "会员服务中心", (90, 80, 170), [
        "即日起，会员单位可通过公众号向会员服务中心咨询入会、等级评估和培训报名等事项。",
        "工作人员将在工作日内回复。回复“会员 单位名称”可查询会员单位信息，回复“新闻 关键词”可搜索总会新闻。",
        "{img}"]),
]  # fmt: skip


def picture(colour: tuple[int, int, int], seed: int) -> bytes:
    """A simple banner: a colour band with light circles; the same arguments give the same bytes."""
    img = PILImage.new("RGB", (900, 500), colour)
    draw = ImageDraw.Draw(img)
    for i in range(6):
        x, y, r = 80 + i * 140, 150 + ((seed + i) % 3) * 90, 40 + ((seed * 7 + i * 13) % 50)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(min(255, c + 70) for c in colour))
    draw.rectangle([0, 440, 900, 500], fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _extracted(slug: str, title: str, when: date, source: str, paragraphs: list[str]) -> Extracted:
    image_url = f"{BASE}images/{slug}.jpg"
    html = "".join(
        f'<p><img src="{image_url}" alt=""></p>' if p == "{img}" else f"<p>{p}</p>" for p in paragraphs
    )
    from bs4 import BeautifulSoup

    text = block_text(BeautifulSoup(html, "lxml"))
    return Extracted(url=f"{BASE}{slug}.html", title=title, published_at=when, source_name=source, author="",
                     body_html=html, body_text=text, digest=make_digest(text), images=[image_url],
                     tags=["新闻动态"])  # fmt: skip


def demo_urls() -> list[str]:
    return [f"{BASE}{slug}.html" for slug, *_ in DEMO]


async def demo_complete(session: AsyncSession) -> bool:
    """Every demo article is in the database."""
    urls = demo_urls()
    found = await session.scalar(select(func.count()).select_from(Article).where(Article.source_url.in_(urls)))
    return found == len(urls)


async def load_demo(services: Services) -> int:
    """Add the demo articles not stored yet, marked ready for the scheduler; an article that exists is
    never touched. Returns how many were added. (store/demo.py decides whether to call this at all.)"""
    async with services.db() as session:
        known = set(await session.scalars(select(Article.source_url).where(Article.source_url.in_(demo_urls()))))
    importer = Importer(services.settings, services.db, services.clock, http=None)
    added = 0
    for i, (slug, title, when, source, colour, paragraphs) in enumerate(DEMO):
        x = _extracted(slug, title, when, source, paragraphs)
        if x.url in known:
            continue
        data = await asyncio.to_thread(picture, colour, i)
        outcome, article_id = await importer.save(x, image_data={x.images[0]: data})
        if outcome == "added":
            added += 1
            async with services.db() as session, session.begin():
                (await session.get(Article, article_id)).status = "ready"
    return added
