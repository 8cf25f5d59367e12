"""Every Chinese sentence of the reading report: the federation's sentence, `main.py stats fetch` and
`main.py stats report`, and the headers of its tables."""

from __future__ import annotations

from store.reading.report import ReadingReport

# The federation's own words as its news page prints them: "“浙江省社会组织总会”微信公众号年均推文1500篇，
# 阅读量超62万". The copy we hold of that page is NFKC-normalised (its commas came out ASCII); a reader
# sees Chinese text with full-width commas, so ours is full-width, like the registry's headline
# (store/members/stats_texts.py), and the tests compare the NFKC forms.
HEADLINE = "年均推文{articles}篇，阅读量超{tenk}万"
HEADLINE_FEW = "年均推文{articles}篇，阅读量{reads}"  # under 10,000 reads "超0万" says nothing
ACCOUNT = "“{name}”微信公众号"


def headline(r: ReadingReport, account: str = "") -> str:
    """The sentence filled from the report: for one year, its figures; over several, their yearly mean."""
    if r.reads_per_year >= 10_000:
        sentence = HEADLINE.format(articles=r.articles_per_year, tenk=r.reads_per_year // 10_000)
    else:
        sentence = HEADLINE_FEW.format(articles=r.articles_per_year, reads=r.reads_per_year)
    return (ACCOUNT.format(name=account) if account else "") + sentence + "。"


# --- `main.py stats` ---------------------------------------------------------------------------------

CLI_STATS_HELP = "公众号的阅读数据（数据统计）：从微信取回，按年汇总"
CLI_FETCH_HELP = "从微信数据统计接口取回尚未取回的数据（每天 8 点后后台也会自动取回）"
CLI_SINCE_DAY = "从这一天起补取（YYYY-MM-DD，默认最近 [scheduler] reading_backfill_days 天；微信拒绝过的日期也会重试）"
CLI_REPORT_HELP = "阅读数据年度报告：发文篇数、阅读总量与篇均阅读、阅读最多的文章、粉丝增长"
CLI_YEAR = "报告哪一年（默认今年）"
CLI_SINCE_YEAR = "从哪一年起（多年时，开头一句取各年的平均数）"
CLI_TOP = "列出阅读最多的前几篇（默认 10）"
CLI_XLSX = "同时把各表写入这个 .xlsx 文件"
CLI_JSON = "以 JSON 输出全部数字（供其他程序读取）"
CLI_BAD_DAY = "“{text}”不是日期，应为 YYYY-MM-DD"
CLI_BAD_YEARS = "--since 不能晚于 --year"
CLI_FETCHED = "已取回 {first} 至 {last} 的数据：调用接口 {calls} 次，存入 {rows} 行"
CLI_FETCH_ROWS = "  {endpoint}：{rows} 行"
CLI_REFUSED = "  微信拒绝了这些日期（61501 日期范围错误），已记下，不再自动重试：{days}"
CLI_NOT_READY = "  这些数据微信尚未生成（61503），下次再取：{names}"
CLI_ERRORS = "  出错（已取回的数据都已保存，下次从这里继续）："
CLI_MORE = "  本次调用已达上限，其余下次继续"
CLI_BUSY = "另一个进程正在取回数据，本次未取"
CLI_LINKED = "  {n} 篇文章已与发送它们的推送对应"
CLI_NOTHING = "数据都已取回（截至 {last}），没有需要调用的接口"
CLI_WROTE = "已写入 {file}"
CLI_TITLE = "公众号阅读数据（{span}）"
CLI_YEAR_LINE = ("  {year} 年：发文 {articles} 篇，阅读 {reads} 次（人次，按日累计），篇均 {mean}；"
                 "转发 {shares}，收藏 {favourites}；粉丝 {before} → {after}（新增 {new}，取消 {cancelled}，净增 {growth}）")
CLI_TOP_TITLE = "阅读最多的文章（前 {n} 篇）："
CLI_TOP_LINE = "  {n:>3}. {reads:>8} 次  {sent_on}  {title}"
CLI_UNKNOWN = "—"

SHEET_YEARS = "按年"
SHEET_TOP = "阅读最多的文章"
YEAR_HEADERS = ["年份", "发文篇数", "阅读（人次）", "篇均阅读", "转发（人次）", "收藏（人次）",
                "年初粉丝", "年末粉丝", "新增关注", "取消关注", "净增"]
TOP_HEADERS = ["名次", "标题", "发出日期", "阅读（人次）", "转发（人次）", "收藏（人次）", "推送编号", "msgid"]
SUMMARY_ROW = "开头一句"
SHEET_FOLLOWERS = "粉丝变化"
SHEET_PUSHES = "各次推送的阅读"
FOLLOWER_HEADERS = ["日期", "粉丝总数（当天结束时）", "新增关注", "取消关注"]
PUSH_HEADERS = ["发出日期", "第一篇标题", "篇数", "阅读（人次）", "转发（人次）", "收藏（人次）", "推送编号",
                "msg_data_id"]


def span(r: ReadingReport) -> str:
    return f"{r.last_year} 年" if r.first_year == r.last_year else f"{r.first_year}—{r.last_year} 年"
