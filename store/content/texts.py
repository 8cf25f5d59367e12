"""Every sentence the content store shows its users (the `main.py news` commands), and the articles'
statuses in words. Followers' news replies keep theirs in handlers/news.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.content.importer import ImportReport

# An article's status (store/models/content.py ARTICLE_STATUSES) as editors read it.
STATUS = {"imported": "已导入", "ready": "可推送", "queued": "已排入推送", "published": "已发布", "withdrawn": "已撤回"}

# --- help ----------------------------------------------------------------------------------------------

HELP = "文章库：导入网站新闻，列出、搜索、编辑文章"
IMPORT_HELP = "导入一个新闻列表页（及其文章）、一篇文章页、一个保存的 HTML 文件或一个文件夹"
IMPORT_DESCRIPTION = (
    "沿新闻列表的翻页找到各篇文章并导入，或导入一个页面、文件、文件夹。失败的页面会逐一列出，其余照常导入；"
    "重新导入没有变化的页面不会改动任何东西。全部页面都失败时退出码为 1。"
)
IMPORT_TARGET = "网址、HTML 文件或文件夹"
IMPORT_SOURCE = "使用配置中这个 [[sources]] 的选择器"
IMPORT_PAGES = "最多翻 N 页列表"
IMPORT_SINCE = "跳过早于这一天的文章（如 2024-03-14）"
LIST_HELP = "最新的文章"
LIST_STATUS = "只列出这一状态的文章：" + "、".join(f"{label}（{code}）" for code, label in STATUS.items())
LIST_LIMIT = "最多列出多少篇（默认 30）"
SEARCH_HELP = "在标题和正文中搜索（中文词语）"
SEARCH_QUERY = "搜索的词语，多个词用空格分开"
SEARCH_LIMIT = "最多列出多少篇（默认 20）"
READY_HELP = "把已导入的文章标记为可推送"
ARTICLE_IDS = "文章编号（见 news list），可写多个"
EDIT_HELP = "设置文章在微信上的标题、摘要或标签"
ARTICLE_ID = "文章编号（见 news list）"
EDIT_TITLE = "微信上的标题（最多 {max} 个字）；'' 表示清除"
EDIT_DIGEST = "微信上的摘要（最多 {max} 个字）；'' 表示清除"
EDIT_TAGS = "标签，用逗号分隔（替换现有的标签）"
SHOW_HELP = "查看一篇文章的全部内容"

# --- output ----------------------------------------------------------------------------------------------

NOT_A_DATE = "不是日期：{text!r}（请写成 2024-03-14 或 2024年3月14日）"
NOT_A_STATUS = "没有这种状态：{text!r}（可选：{choices}）"
UNKNOWN_SOURCE = "配置中没有名为“{name}”的 [[sources]]（已有：{known}）"
NO_SOURCES = "无"
UPLOAD_NOT_HTML = "请上传保存的网页文件（.html 或 .htm）"
UPLOAD_SIZE = "网页文件是空的或超过 {mb} MB"
IMPORT_CRASHED = "导入意外中止：{error}"
LINE = "{id:>6}  {date}  {status}  {title}{flag}"
NO_DATE = "----------"
TITLE_FLAG = "  ［标题超过 {max} 字，请用 news edit {id} --wechat-title 设置微信标题］"
IN_BODY = "  （词语在正文中）"
NO_ARTICLES = "没有文章"
NOTHING_FOUND = "没有找到与“{query}”相关的文章"
READY = "{id}：已标记为可推送"
NO_ARTICLE = "{id}：没有这篇文章"
TITLE_TOO_LONG = "{id}：标题有 {length} 个字（微信最多 {max} 个字），请先设置微信标题：news edit {id} --wechat-title …"
ALREADY = "{id}：状态已是“{status}”，未修改"
FIELD_TOO_LONG = "{field}有 {length} 个字，微信最多允许 {max} 个字"
FIELD_NAMES = {"wechat_title": "微信标题", "digest": "微信摘要"}
NO_SUCH_ARTICLE = "没有编号为 {id} 的文章"
SHOW_FIELDS = {
    "id": "编号", "title": "标题", "wechat_title": "微信标题", "date": "日期", "source": "来源",
    "author": "作者", "url": "网址", "status": "状态", "tags": "标签", "digest": "摘要",
    "wechat_digest": "微信摘要", "wechat_url": "微信链接", "updated": "更新时间",
}  # fmt: skip
IMAGE_LINE = "图片 {n}：{path} {width}×{height} {size} 字节{cover} ← {url}"
COVER = "（封面）"


def error(message: object) -> str:
    return f"错误：{message}"


def import_summary(report: ImportReport) -> str:
    line = (
        f"新增 {len(report.added)} 篇，更新 {len(report.updated)} 篇，未变 {len(report.unchanged)} 篇，"
        f"失败 {len(report.failed)} 篇"
    )
    if report.skipped:
        line += f"，早于 --since 跳过 {len(report.skipped)} 篇"
    if report.image_failures:
        line += f"；{len(report.image_failures)} 张图片未能保存"
    lines = [line]
    lines += [f"  失败：{url} — {reason}" for url, reason in report.failed]
    lines += [f"  图片：{url} — {reason}" for url, reason in report.image_failures]
    return "\n".join(lines)

# --- news sources ------------------------------------------------------------------------------------
SOURCES_HELP = "自动导入的网站栏目：轮询规则、状态和最近几次导入的记录"
SOURCES_RUNS = "每个栏目列出最近几次（默认 5）"
NO_POLLED_SOURCES = "配置中没有设置 poll 的 [[sources]]，不会自动导入。"
ON_NEW = {"store": "只导入", "ready": "导入并设为可推送", "queue": "导入并排入下一次推送（需编辑批准）"}
SOURCE_HEAD = "〔{name}〕{url}\n  轮询：{poll}；新文章：{on_new}"
SOURCE_NEVER = "  尚未运行过"
SOURCE_STATE = "  下次轮询：{next}；上次成功：{ok}"
SOURCE_FAILING = "  已连续失败 {n} 次（退避中）"
SOURCE_RUNS_HEAD = "  最近的运行（{zone}）："
SOURCE_RUN = "    {at}  发现 {found}，新增 {added}，更新 {updated}，失败 {failed}，排入推送 {queued}；请求 {requests} 次"
SOURCE_RUN_304 = "    {at}  网站没有变化（304），请求 {requests} 次"
SOURCE_RUN_ERROR = "      问题：{error}"

# --- why a page or an image was not imported (editors read these in the import report) ------------

HTTP_STATUS = "网站回应 HTTP {status}"
TOO_LARGE = "文件过大（{size}，上限 {limit}）"
TOO_LARGE_UNKNOWN = "文件过大（超过上限 {limit}）"
TIMED_OUT = "网站在 {seconds:g} 秒内没有回应"
UNREACHABLE = "无法连接网站（{error}）"
NOT_HTML = "不是网页（{ctype}）"
NO_CTYPE = "未注明类型"
NOT_IMAGE = "不是图片（{ctype}）"
NOT_READABLE_IMAGE = "图片无法读取（{error}）"
UNSUPPORTED_IMAGE = "不支持的图片格式 {fmt}"
CANNOT_READ_FILE = "无法读取文件：{error}"
NO_ARTICLE_TEXT = "页面上没有找到文章正文"
NO_TITLE = "页面上没有找到标题"
EMPTY_BODY = "文章正文为空"
LISTING_NOT_ARTICLE = "这是新闻列表页，不是文章"
PARSER_CRASHED = "页面无法解析（解析进程内存不足或崩溃）"


def size(n: int) -> str:
    """Bytes as an editor reads them."""
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, round(n / 1024))} KB"
