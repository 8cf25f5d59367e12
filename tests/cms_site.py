"""A small column of an older CMS, served on 127.0.0.1: the page kinds the importer used to get wrong.

- a column (listing) of two entries per page where each entry's link wraps a block holding the title,
  a summary and the date, and a pager below ("首页 上一页 1 2 下一页 尾页 共2页", the 下一页 text in a
  <span> inside the link); its second page holds one entry;
- an old table-layout article: the title in a <b> in one table row, "发布时间：… 来源：… 作者：…" in
  the next, the body in a third; labelled gb2312 but holding a GBK-only character and ——; the
  breadcrumb ends in "正文";
- an ASP.NET page: everything inside one <form>, paragraphs as sibling <div><span> blocks, a bold
  dateline lead, "来源于：" and a "记者 X" byline;
- a short notice: one paragraph under 300 characters beside a long list of other notices, the author
  only as "（X）" closing the paragraph.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

CRUMB = '您当前的位置：<a href="/">首页</a> &gt; <a href="/xwdt/">新闻动态</a> &gt; 正文'
MENU = """<div class="menu"><a href="/">首页</a> <a href="/xwdt/">新闻动态</a> <a href="/tzgg/">通知公告</a>
<a href="/dwjs/">党建工作</a> <a href="/hyfc/">会员风采</a></div>"""
FOOT = "<div>版权所有：某省社会组织总会 地址：某市某路1号 电话：0571-12345678 某ICP备12345678号</div>"


@dataclass(frozen=True)
class Entry:
    slug: str
    title: str
    summary: str
    date: str  # as the listing shows it


ENTRIES = [
    Entry("c201", "省社会组织总会召开第三届理事会第二次会议", "会议审议通过了年度工作报告和财务报告，选举产生了新一届监事会。",
          "2024-03-01"),
    Entry("c202", "总会组织会员单位赴嘉兴开展党建联建活动", "二十余家会员单位党组织负责人参加活动，重温入党誓词。", "2024-02-26"),
    Entry("c203", "关于开展2024年度社会组织等级评估申报工作的通知", "请各有关单位于4月30日前提交申报材料。", "2024-02-20"),
]  # fmt: skip


def column_page(k: int) -> str:
    entries = ENTRIES[:2] if k == 1 else ENTRIES[2:]
    items = "".join(
        f'<li><a href="/xwdt/{e.slug}.html"><div class="tit">{e.title}</div>'
        f'<div class="zy">{e.summary}</div><span class="rq">{e.date}</span></a></li>'
        for e in entries
    )
    if k == 1:
        pager = ('<a href="index.html">首页</a> <span>上一页</span> <b>1</b> <a href="index_2.html">2</a> '
                 '<a href="index_2.html"><span>下一页&gt;&gt;</span></a> <a href="index_2.html">尾页</a> 共2页')  # fmt: skip
    else:
        pager = ('<a href="index.html">首页</a> <a href="index.html"><span>&lt;&lt;上一页</span></a> '
                 '<a href="index.html">1</a> <b>2</b> <span>下一页</span> <span>尾页</span> 共2页')  # fmt: skip
    return f"""<html><head><meta charset="utf-8"><title>新闻动态_某省社会组织总会</title></head><body>
{MENU}<div class="wz">您当前的位置：<a href="/">首页</a> &gt; <a href="/xwdt/">新闻动态</a></div>
<div class="lm"><h3>新闻动态</h3></div><ul class="newslist">{items}</ul>
<div class="fy">{pager}</div>{FOOT}</body></html>"""


def table_article() -> bytes:
    e = ENTRIES[0]
    html = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{e.title}</title></head><body>
<table width="980" align="center"><tr><td>{MENU}</td></tr>
<tr><td class="wz">{CRUMB}</td></tr></table>
<table width="980" align="center" cellpadding="0" cellspacing="0">
<tr><td align="center" height="40"><b>{e.title}</b></td></tr>
<tr><td align="center">发布时间：2024年3月1日 &nbsp; 来源：总会秘书处 &nbsp; 作者：张堃 &nbsp; 浏览次数：128</td></tr>
<tr><td class="nr">
&nbsp;&nbsp;&nbsp;&nbsp;2月28日，省社会组织总会第三届理事会第二次会议在杭州召开，六十余名理事出席会议。<br>
&nbsp;&nbsp;&nbsp;&nbsp;会议审议通过了2023年度工作报告和财务报告——报告总结了一年来服务会员、规范管理的成效。<br>
&nbsp;&nbsp;&nbsp;&nbsp;会议还选举产生了新一届监事会，并对2024年重点工作作出部署。
</td></tr></table>
<table width="980" align="center"><tr><td>【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr></table>
{FOOT}</body></html>"""
    return html.encode("gbk")


def form_article() -> str:
    e = ENTRIES[1]
    paragraphs = [
        "2月24日，总会组织二十余家会员单位党组织负责人赴嘉兴南湖，开展“党建联建 共促发展”主题活动。",
        "大家重温入党誓词，参观了南湖革命纪念馆，并围绕党建引领社会组织高质量发展进行座谈交流。",
        "与会同志表示，将把学习成果转化为推动本单位规范发展、服务社会的实际行动。",
    ]
    divs = "".join(f'<div style="text-indent:2em"><span style="font-size:16px">{p}</span></div>' for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{e.title}-某省社会组织总会</title></head>
<body><form method="post" action="./c202.aspx" id="form1"><input type="hidden" name="__VIEWSTATE" value="x">
{MENU}<div class="wz">{CRUMB}</div>
<div class="article"><div class="article-tit">{e.title}</div>
<div class="article-info">发布日期：2024-02-26 &nbsp; 来源于：总会党支部</div>
<div class="TRS_Editor"><div><span><b>本网讯</b></span></div>{divs}
<div style="text-align:right"><span>记者 李思远</span></div></div>
<div class="share">分享到：<a href="#">微信</a></div></div>
{FOOT}<input type="submit" value="搜索"></form></body></html>"""


def short_notice() -> str:
    e = ENTRIES[2]
    others = "".join(
        f'<li><a href="/tzgg/{i}.html">关于做好2023年度第{i}批社会组织年检工作的通知</a><span>2023-0{i}-15</span></li>'
        for i in range(1, 9)
    )
    return f"""<html><head><meta charset="utf-8"><title>{e.title}</title></head><body>
{MENU}<div class="wz">{CRUMB}</div>
<div class="left"><div class="lm">通知公告</div><ul class="list">{others}</ul></div>
<div class="right"><h2>{e.title}</h2><p class="date">2024-02-20</p>
<div class="con"><p>各有关社会组织：根据年度工作安排，2024年度社会组织等级评估申报工作现已启动，请各有关单位于4月30日前
将申报材料报送总会秘书处。（王晓敏）</p></div></div>
{FOOT}</body></html>"""


def make_cms_app() -> web.Application:
    pages = {
        "/xwdt/": lambda: web.Response(text=column_page(1), content_type="text/html"),
        "/xwdt/index.html": lambda: web.Response(text=column_page(1), content_type="text/html"),
        "/xwdt/index_2.html": lambda: web.Response(text=column_page(2), content_type="text/html"),
        # No charset in the header: the page's own <meta> says gb2312.
        "/xwdt/c201.html": lambda: web.Response(body=table_article(), headers={"Content-Type": "text/html"}),
        "/xwdt/c202.html": lambda: web.Response(text=form_article(), content_type="text/html"),
        "/xwdt/c203.html": lambda: web.Response(text=short_notice(), content_type="text/html"),
    }

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path in pages:
            return pages[request.path]()
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app
