"""Every Chinese sentence of the registry's figures: the federation's headline, the follower reply
(统计), the `main.py members stats` command and the headers of its tables."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from store.members import eligibility

if TYPE_CHECKING:
    from store.members.stats import Headline, RegistryFigures, Tally

# The federation's own sentence, word for word as its news page prints it. The copy we hold of that
# page is NFKC-normalised (its commas came out ASCII); a reader's phone shows Chinese text with
# full-width commas, so ours are full-width and the tests compare the NFKC forms. The percentage is
# rounded half up (stats.percent).
HEADLINE = (
    "在符合参评条件的{eligible}家单位会员中，有{graded}家获得评估等级。"
    "其中，5A级社会组织{grade_5a}家、4A级社会组织{grade_4a}家，约占总会内等级社会组织总数的{percent}%。"
)
HEADLINE_NONE_GRADED = "在符合参评条件的{eligible}家单位会员中，暂无单位获得评估等级。"


def headline(h: Headline) -> str:
    if h.percent is None:
        return HEADLINE_NONE_GRADED.format(eligible=h.eligible)
    return HEADLINE.format(
        eligible=h.eligible, graded=h.graded, grade_5a=h.grade_5a, grade_4a=h.grade_4a, percent=h.percent
    )


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


NO_REGION = "未填写地区"
OWN_LEVEL = "本级"
ELIGIBILITY = {
    eligibility.STATED_YES: "参评资格：是",
    eligibility.STATED_NO: "参评资格：否",
    eligibility.REGISTERED: "登记满两年",
    eligibility.TOO_RECENT: "登记未满两年",
    eligibility.EVALUATED: "未填登记日期，已参加过评估",
    eligibility.UNKNOWN: "未填登记日期和参评资格，无法判断",
}


def region_label(label: str) -> str:
    return label or NO_REGION


def county_label(label: str) -> str:
    return label or OWN_LEVEL


# --- the follower reply (统计 / 会员统计): public figures only ----------------------------------------

HELP_STATS = "统计（或 会员统计）— 查看总会单位会员的数量、评估等级等统计数字"
REGIONS_SHOWN = 6


def _counts(tallies: list[Tally], label=lambda s: s) -> str:
    return "、".join(f"{label(t.label)} {t.units} 家" for t in tallies if t.units)


def follower_reply(f: RegistryFigures) -> str:
    t = f.total
    if not t.units:
        return f"截至{day(f.on)}，总会尚无在册的单位会员。"
    grades = "、".join(f"{g} {n} 家" for g, n in t.grades.items())
    lines = [
        f"【总会单位会员统计】截至{day(f.on)}",
        headline(f.headline),
        f"单位会员共 {t.units} 家：{_counts(f.by_kind)}。",
        f"会员类别：{_counts(f.by_role)}。",
        f"有效评估等级：{grades}；等级已过期 {t.expired} 家，未参加评估 {t.ungraded} 家。",
        f"未来 {f.months} 个月内评估等级到期：{t.expiring} 家。",
        f"各地单位会员：{_counts(f.by_region[:REGIONS_SHOWN], region_label)}"
        + ("等" if len(f.by_region) > REGIONS_SHOWN else "")
        + "。",
    ]
    return "\n".join(lines)


# --- 我的状态: a bound unit's place and its grade's expiry ------------------------------------------------


def standing(place: tuple[int, int] | None, expires: date | None, today: date) -> list[str]:
    lines = []
    if place is not None:
        lines.append(
            f"会内排名：第 {place[0]} 位（共 {place[1]} 家；依次按评估等级、参评次数、最近评估年度排序）"
        )
    if expires is not None:
        if expires < today:
            lines.append(f"评估等级已于{day(expires)}到期")
        else:
            left = (expires - today).days
            lines.append(f"评估等级到期日：{day(expires)}（还有 {left} 天）")
    return lines


# --- `main.py members stats` ---------------------------------------------------------------------------

CLI_STATS_HELP = "单位会员统计：类型、会员类别、地区、评估等级、参评资格、即将到期的等级与会内排名"
CLI_ON = "统计哪一天结束时的名录（YYYY-MM-DD，默认今天；按变更记录还原当天的名录）"
CLI_BY = "分组方式：region 按地区（市、区县）、kind 按单位类型、role 按会员类别（默认 kind）"
CLI_MONTHS = "列出多少个月内到期的评估等级（默认 12）"
CLI_TOP = "列出排名前几位（默认 10；导出 xlsx 时含全部排名）"
CLI_JSON = "以 JSON 输出全部数字（供其他程序读取）"
CLI_XLSX = "同时把各表写入这个 .xlsx 文件"
CLI_BAD_DAY = "“{text}”不是日期，应为 YYYY-MM-DD"
CLI_FUTURE_DAY = "{day} 还没有到，名录只能统计到今天"
CLI_TITLE = "单位会员统计（截至{day}结束时）"
CLI_TOTALS = "单位会员 {units} 家；符合参评条件 {eligible} 家，其中获评有效等级 {graded} 家"
CLI_ELIGIBILITY = "参评条件的依据："
CLI_ELIGIBILITY_LINE = "  {label}：{n} 家"
CLI_GRADES = "有效评估等级：{grades}；等级已过期 {expired} 家，未参加评估 {ungraded} 家"
CLI_BY_TITLE = {"kind": "按单位类型", "role": "按会员类别", "region": "按地区（市、区县）"}
CLI_EXPIRING = "{months} 个月内到期的评估等级：{n} 家"
CLI_EXPIRING_LINE = "  {expires}  {grade}（{year} 年评定）  {name}"
CLI_RANKING = "会内排名（前 {n} 位；依次按评估等级、参评次数、最近评估年度，同等时按名称）："
CLI_RANKING_LINE = "  {place:>4}. {grade}  参评 {evaluations} 次  最近 {year}  {name}"
CLI_NONE = "无"
CLI_NO_GRADE = "无等级"
CLI_MORE = "  ……共 {n} 家（全部见 --xlsx 导出的“即将到期”表）"
CLI_BAD_NUMBER = "--months 与 --top 不能是负数"
CLI_EXPIRING_SHOWN = 20
CLI_WROTE = "已写入 {file}"

# --- tables (the CLI's and the xlsx's) -------------------------------------------------------------------

SHEET_SUMMARY = "概况"
SHEET_BY = {"kind": "按单位类型", "role": "按会员类别", "region": "按地区"}
SHEET_EXPIRING = "即将到期"
SHEET_RANKING = "会内排名"
SUMMARY_HEADERS = ["项目", "数值"]
GROUP_HEADERS = {"kind": ["单位类型"], "role": ["会员类别"], "region": ["市", "区（县）"]}
ALL_UNITS = "合计"


def tally_headers(months: int) -> list[str]:
    return ["单位数", "符合参评条件", "获评有效等级（符合参评条件）", "5A", "4A", "3A", "2A", "1A",
            "等级已过期", "未参加评估", f"{months}个月内到期"]  # fmt: skip


EXPIRING_HEADERS = ["单位名称", "评估等级", "评估年度", "有效期至"]
RANKING_HEADERS = ["名次", "单位名称", "评估等级（有效）", "参评次数", "最近评估年度"]
SUMMARY_ROWS = {
    "on": "统计日期（当天结束时的名录）",
    "headline": "总会的表述",
    "units": "单位会员",
    "eligible": "符合参评条件",
    "graded": "其中获评有效等级",
    "grade_5a": "其中 5A",
    "grade_4a": "其中 4A",
    "percent": "5A 与 4A 占获评单位的比例（%，四舍五入）",
    "expiring": "{months} 个月内到期的等级",
}
