"""Every sentence of the console's 统计 pages (会员统计, 阅读数据) besides their templates' labels. The
figures' own words (the federation's sentences, the tables' headers) are the reports' own
(store/members/stats_texts.py, store/reading/texts.py), shared with the CLI. Chinese, addressed as 您."""

from __future__ import annotations

REGISTRY = "会员统计"
READING = "阅读数据"
BAD_MONTHS = "“{text}”不是月数，请填 0 到 {max} 之间的整数。"
BAD_YEAR = "“{text}”不是年份，请填 {first} 到 {last} 之间的年份。"
TOO_MANY_YEARS = "一次最多统计 {n} 年，请缩短年份范围。"
NO_SUCH_TABLE = "没有这张表。"
SHOWING_FIRST = "这里列出前 {shown} 行，共 {n} 行；全部见下载的表格。"
SHOWING_LAST = "这里列出最近 {shown} 行，共 {n} 行；全部见下载的表格。"

CHART_GRADES = "有效评估等级的单位数（截至{day}）"
CHART_REGIONS = "各市单位会员数（截至{day}）"
CHART_FOLLOWERS = "粉丝总数（{span}，每天结束时）"
CHART_PUSHES = "各次推送的阅读人次（{span}，最近 {n} 次）"
NO_FIGURES = "还没有取回这段时间的数据"
UNIT_UNITS = "家"
UNIT_PEOPLE = "人"
UNIT_READS = "人次"
EXPIRED = "等级已过期"
UNGRADED = "未参加评估"
GRADED_NOTE = "其中获评有效等级 {n} 家"
PUSH_NOTE = "{day}，{n} 篇，第一篇：{title}"
