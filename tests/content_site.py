"""A small federation website for the content tests and the import bench, served on 127.0.0.1.

Two page structures, as two kinds of Chinese CMS render them: "A" (div layout, UTF-8, breadcrumb,
"人阅读" line, share box, QR blurb) and "B" (old table layout, GBK, 发布时间/来源/作者 in one line,
text split by <br>). The listing has two pages; one link is broken (404), one page never answers in
time, one link is a PDF.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from aiohttp import web
from PIL import Image as PILImage
from PIL import ImageDraw


def make_png(seed: int, size=(240, 160)) -> bytes:
    img = PILImage.new("RGB", size, ((seed * 47) % 256, (seed * 91) % 256, (seed * 13) % 256))
    draw = ImageDraw.Draw(img)
    draw.rectangle([10 + seed % 50, 10, 120, 90], fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def make_jpeg(seed: int, size=(320, 200)) -> bytes:
    img = PILImage.new("RGB", size, ((seed * 31) % 256, 120, (seed * 17) % 256))
    ImageDraw.Draw(img).ellipse([20, 20, 160, 160], fill=(250, 240, 200))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


@dataclass
class Story:
    slug: str
    title: str
    date: str  # as the page writes it
    source: str
    paragraphs: list[str]
    image: str  # path on the site
    layout: str  # "A" or "B"


STORIES = [
    Story("n101", "省社会组织总会召开2024年度等级评估工作推进会", "2024-03-14", "中国社会报",
          ["3月12日，省社会组织总会召开年度等级评估工作推进会，来自全省的六十余家单位会员参加会议。",
           "会议解读了社会组织等级评估指标的最新调整，并就参评材料的准备进行了现场答疑。"],
          "/uploads/2024/03/a1.png", "A"),
    Story("n102", "总会举办新成立社会组织负责人培训班", "2024年3月20日", "浙江日报",
          ["为期三天的培训班围绕内部治理、财务管理和信息公开等主题展开，共有一百二十名学员结业。",
           "学员们表示，课程贴近实际，对规范化建设很有帮助。"],
          "/uploads/2024/03/b1.jpg", "B"),
    Story("n103", "年会筹备工作正式启动", "2024/4/2", "总会秘书处",
          ["总会第五届年会筹备工作近日正式启动，年会将以“协同发展，共享未来”为主题。",
           "筹备组已就会议议程、嘉宾邀请和会务保障作出分工。"],
          "/uploads/2024/04/a2.png", "A"),
    Story("n104", "“我给乡村孩子上堂课”公益活动走进山区小学", "2024年4月18日", "青年时报",
          ["志愿者们为孩子们带去了科学实验课和阅读分享，并捐赠了图书和文具。",
           "活动由多家单位会员联合发起，已连续开展三年。"],
          "/uploads/2024/04/b2.jpg", "B"),
    Story("n105", "社会组织合规运营沙龙在杭举行", "2024-05-06", "中国社会报",
          ["沙龙邀请律师和财务专家，结合典型案例讲解社会组织合规运营的要点。",
           "与会代表围绕等级评估中的常见问题进行了交流。"],
          "/uploads/2024/05/a3.png", "A"),
    Story("n106", "总会党支部开展主题党日活动", "2024年5月20日", "总会党支部",
          ["支部党员赴嘉兴南湖开展主题党日活动，重温入党誓词，接受红色教育。",
           "活动结束后，大家围绕党建引领社会组织高质量发展进行了座谈。"],
          "/uploads/2024/05/b3.jpg", "B"),
]  # fmt: skip

CHROME_A_HEAD = """<div class="topbar"><a href="/login.html">登录</a> | <a href="/register.html">注册</a></div>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/news/">新闻动态</a></li>
<li><a href="/notice/">通知公告</a></li><li><a href="/members/">会员风采</a></li>
<li><a href="/about/">关于总会</a></li></ul></div>"""
CHROME_FOOT = """<div class="footer"><a href="/">返回首页</a>
<div class="ewm"><img src="/images/qrcode.png" alt="二维码">扫二维码 关注总会公众号</div>
<a href="/login.html">会员登录</a> <a href="/register.html">会员注册</a>
<p>版权所有 © 某省社会组织总会 地址：某市某路1号</p></div>
<script>document.write('<div>广告</div>');</script>"""


def page_a(s: Story) -> str:
    paras = "".join(f"<p style='text-indent:2em'>{p}</p>" for p in s.paragraphs[:1])
    rest = "".join(f"<p>{p}</p>" for p in s.paragraphs[1:])
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{s.title}-新闻动态-某省社会组织总会</title></head><body>
{CHROME_A_HEAD}
<div class="main"><div class="left"><h3>新闻动态</h3><ul><li><a href="/news/">新闻动态</a></li>
<li><a href="/notice/">通知公告</a></li></ul></div>
<div class="right">
<div class="location">您当前的位置：<a href="/">首页</a> / <a href="/news/">新闻动态</a></div>
<div class="article"><h1>{s.title}</h1>
<div class="info">{s.date} &nbsp; <span id="hits">128</span>人阅读</div>
<div class="content">{paras}
<p style="text-align:center"><img src="..{s.image}" alt="图片"></p>
<p>图为活动现场。</p>{rest}
<p>来源：{s.source}</p></div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div>
</div></div></div>
{CHROME_FOOT}</body></html>"""


def page_b(s: Story) -> bytes:
    lines = "<br>".join("&nbsp;&nbsp;" + p for p in s.paragraphs)
    html = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">
<title>{s.title}</title></head><body>
<table width="100%"><tr><td class="logo"><a href="/">某省社会组织总会</a></td>
<td><a href="/login.html">登录</a> <a href="/register.html">注册</a></td></tr></table>
<table width="960"><tr><td class="titlestyle">{s.title}</td></tr>
<tr><td class="timestyle">发布时间：{s.date} &nbsp; 来源：{s.source} &nbsp; 作者：记者甲</td></tr>
<tr><td class="contentstyle"><div id="zoom">{lines}<br>
<img src="{s.image}" onclick="alert(1)"><br>活动合影。</div></td></tr></table>
<div>【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</div>
<div class="bdshare"><a href="#">分享到微信</a></div>
<div><a href="/">返回首页</a></div></body></html>"""
    return html.encode("gbk")


def listing(page: int) -> str:
    # Newest first, as CMSs list: page 1 has n106..n104, the slow page and the broken link;
    # page 2 has n103..n101 and the PDF.
    rows = {
        1: [(s.slug + ".html", s.title, s.date) for s in reversed(STORIES[3:])]
        + [
            ("slow.html", "一篇打开很慢的新闻标题", "2024-04-05"),
            ("gone.html", "一篇已经删除的旧新闻标题", "2024-04-01"),
        ],
        2: [(s.slug + ".html", s.title, s.date) for s in reversed(STORIES[:3])]
        + [("report.pdf", "年度工作报告全文下载", "2024-01-03")],
    }[page]
    items = "".join(f'<li><a href="{href}">{title}</a><span>{d}</span></li>' for href, title, d in rows)
    pager = '<a href="list_2.html">下一页</a>' if page == 1 else '<a href="index.html">上一页</a>'
    return f"""<html><head><meta charset="utf-8"><title>新闻动态-某省社会组织总会</title></head><body>
{CHROME_A_HEAD}<div class="location">您当前的位置：首页 / 新闻动态</div>
<ul class="newslist">{items}</ul><div class="pager">{pager}</div>{CHROME_FOOT}</body></html>"""


HITS = web.AppKey("hits", dict)


def make_site_app(slow_seconds: float = 5.0) -> web.Application:
    by_slug = {s.slug: s for s in STORIES}
    images = {
        s.image: (make_png(i) if s.image.endswith(".png") else make_jpeg(i)) for i, s in enumerate(STORIES)
    }
    app = web.Application()
    app[HITS] = hits = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        hits[path] = hits.get(path, 0) + 1
        if path in ("/news/", "/news/index.html"):
            return web.Response(text=listing(1), content_type="text/html")
        if path == "/news/list_2.html":
            return web.Response(text=listing(2), content_type="text/html")
        if path == "/news/slow.html":
            await asyncio.sleep(slow_seconds)
            return web.Response(text="<html>too late</html>", content_type="text/html")
        if path == "/news/report.pdf":
            return web.Response(body=b"%PDF-1.4 fake", content_type="application/pdf")
        if path in images:
            ctype = "image/png" if path.endswith(".png") else "image/jpeg"
            return web.Response(body=images[path], content_type=ctype)
        if path == "/images/qrcode.png":
            return web.Response(body=make_png(99, (100, 100)), content_type="image/png")
        slug = path.rsplit("/", 1)[-1].removesuffix(".html")
        if path.startswith("/news/") and slug in by_slug:
            s = by_slug[slug]
            if s.layout == "A":
                return web.Response(text=page_a(s), content_type="text/html")
            return web.Response(body=page_b(s), headers={"Content-Type": "text/html"})
        raise web.HTTPNotFound()

    app.router.add_get("/{tail:.*}", handle)
    return app
