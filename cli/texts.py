"""Every sentence the bot's own commands show (main.py, serve, db, demo, menu, keywords, log,
followers), and argparse's own words in Chinese. The members, news and push commands keep theirs in
their feature's texts module."""

from __future__ import annotations

# --- main.py and argparse ----------------------------------------------------------------------------

PROGRAM = "省社会组织总会微信公众号机器人。每个命令都可加 --help 查看说明。"
CONFIG_OPTION = "配置文件（默认 config.toml）"
NOT_MIGRATED = (
    "数据库还不是最新结构（{detail}）；请先运行 `python main.py db upgrade --config {config}`"
)

# argparse's msgids (Python 3.11) → Chinese, with the same %-placeholders.
ARGPARSE = {
    "usage: ": "用法：",
    "positional arguments": "参数",
    "options": "选项",
    "show this help message and exit": "显示本说明并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项 %(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的值 %(value)r",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多一个值",
    "expected at least one argument": "至少需要一个值",
    "expected %s argument": "需要 %s 个值",
    "expected %s arguments": "需要 %s 个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "必须给出参数 %s 之一",
    "ignored explicit argument %r": "多余的值 %r",
}


def error(message: object) -> str:
    return f"错误：{message}"


# --- serve, db, demo ---------------------------------------------------------------------------------

SERVE_HELP = "运行公众号的消息接口（webhook），[scheduler] enabled 时同时运行推送调度"
SERVE_DESCRIPTION = (
    "在 [server] host:port 上接收微信发来的消息并回复；[scheduler] enabled = true 时，同一进程还负责"
    "按计划生成草稿、发送预览和发布推送。"
)
DB_HELP = "数据库维护"
DB_UPGRADE_HELP = "创建数据库或升级到最新结构"
DB_AT_HEAD = "数据库已是最新结构：{url}"
DB_BACKUP_HELP = "把数据库与媒体文件夹备份到一个文件（serve 运行时也可以）"
DB_BACKUP_FILE = "备份文件（.tar）"
DB_RESTORE_HELP = "从备份文件恢复数据库与媒体文件；目标数据库已有数据时需加 --force"
DB_RESTORE_FILE = "由 db backup 生成的备份文件"
DB_RESTORE_FORCE = "覆盖已有数据的数据库"
DEMO_HELP = "试用用的演示数据"
DEMO_LOAD_HELP = "向空数据库装入演示数据（会员单位、文章）；数据库已有数据时不装入，可放心重复运行"
DEMO_LOAD_DESCRIPTION = (
    "演示数据只装入空数据库，绝不覆盖已有数据：数据库里一旦有会员单位、文章、推送、粉丝或编辑添加的关键词规则，"
    "就不再装入。另外按 [[keywords]] 补上从未添加过的关键词规则。"
)
KEYWORDS_SEEDED = "关键词规则：按 [[keywords]] 新增 {added} 条（配置中共 {total} 条）"
DEMO_KINDS = {
    "members": "会员单位 {n} 家",
    "articles": "文章 {n} 篇",
    "pushes": "推送 {n} 个",
    "followers": "粉丝 {n} 位",
    "keyword_rules": "编辑添加的关键词规则 {n} 条",
    "editors": "编辑后台演示账号 {n} 个",
}
URLS_HELP = "显示机器人、本地微信平台和编辑后台的地址（按配置）"
URLS = ("  机器人 webhook：  {webhook}\n  本地微信平台：    {sandbox}\n  粉丝模拟器：      {simulator}\n"
        "  编辑后台：        {console}")
URLS_WAIT_HELP = "先等到机器人和本地微信平台应答（最多等这么多秒）再显示 / wait until the servers answer"
URLS_PID_HELP = "等待期间监视的进程号：它退出即不再等待 / a process to watch while waiting"
URLS_NOT_UP = ("  服务未能启动（已等待 {seconds} 秒）/ the servers did not come up (waited {seconds} s)\n"
               "  未应答的地址 / not answering:\n{urls}\n  已退出的进程 / exited processes: {pids}\n"
               "  请查看上面的日志（端口是否被占用、配置是否有误）/ see the log above (port in use? config error?)")
URLS_NO_CONSOLE = "（未开启：[console] enabled = false）"
DEMO_ACCOUNTS = "编辑后台 {url} 的演示账号（只在演示数据库里）："
DEMO_ACCOUNT = "  {role}：账号 {name}  密码 {password}"
DEMO_LOADED = "演示数据已装入：{what}。"
DEMO_PRESENT = "演示数据已在数据库中，未作任何修改。"
DEMO_REFUSED = (
    "数据库中已有数据（{what}），演示数据只装入空数据库，本次没有装入任何演示数据。\n"
    "要试用演示，请另建一个配置文件，把 [database] url 指向另一个数据库文件，再用 --config 指定它。"
)


def demo_counts(counts: dict[str, int]) -> str:
    return "、".join(DEMO_KINDS[k].format(n=n) for k, n in counts.items())


# --- menu sync ---------------------------------------------------------------------------------------

MENU_HELP = "公众号的自定义菜单"
MENU_SYNC_HELP = "按微信的限制检查当前菜单（控制台“菜单”页保存的最新版本），然后在公众号上创建它"
MENU_SYNC_DESCRIPTION = (
    "用当前菜单替换公众号的菜单：控制台“菜单”页保存的最新版本；还没有人保存过时，是配置中的 [menu]"
    "（同步后它成为第一个保存的版本）。与控制台的“同步到公众号”是同一个操作，记入操作日志。"
    "启用服务器配置后，公众平台网站上设置的菜单不再生效，菜单只能这样维护。"
)
MENU_AS = "记入操作日志的操作人（默认：当前系统用户）"
MENU_DRY_RUN = "只检查并打印 JSON，不调用微信"
MENU_REFUSED = "微信拒绝了菜单：{error}"
MENU_SYNCED = "菜单已同步（第 {version} 版）：{top} 个一级菜单，共 {actions} 个功能"

# --- keywords, log, followers ------------------------------------------------------------------------

MATCH_NAMES = {"exact": "完全相同", "prefix": "开头相同", "contains": "包含", "regex": "正则表达式"}
KEYWORDS_HELP = "编辑维护的关键词自动回复（立即生效，无需重启）"
KEYWORDS_LIST_HELP = "按尝试顺序列出规则"
KEYWORDS_ADD_HELP = "添加一条规则"
KEYWORDS_ADD_DESCRIPTION = (
    "添加关键词规则，运行中的机器人一秒内开始使用。规则按优先级（数字小的先试）尝试，"
    "同一优先级依次为完全相同、开头相同、包含、正则表达式。"
)
KEYWORDS_MATCH = "怎样匹配：exact 完全相同（默认）、prefix 开头相同、contains 包含、regex 正则表达式"
KEYWORDS_PATTERN = "关键词（regex 时为正则表达式）"
KEYWORDS_REPLY = "回复的文字（图文回复时为图文的摘要）"
KEYWORDS_PRIORITY = "优先级，数字小的先试（默认 100）"
KEYWORDS_NEWS_TITLE = "改为回复一篇图文，这是它的标题"
KEYWORDS_URL = "图文的链接"
KEYWORDS_PICURL = "图文的封面图片地址"
KEYWORDS_REMOVE_HELP = "按编号删除一条规则（删除后不会再被 [[keywords]] 补回）"
KEYWORDS_ID = "规则编号（见 keywords list）"
KEYWORDS_TEST_HELP = "看某句话会由哪条规则回复、回复什么"
KEYWORDS_TEXT = "粉丝发送的文字"
KEYWORDS_NONE = "还没有关键词规则"
KEYWORD_LINE = "#{id:<4} 优先级 {priority:<4} {match:<6} “{pattern}” → {what}"
KEYWORD_NEWS = "图文《{title}》{url}"
KEYWORD_ADDED = "已添加规则 #{id}：{match}“{pattern}”"
KEYWORD_REMOVED = "已删除规则 #{id}"
KEYWORD_NO_RULE = "没有编号为 #{id} 的规则"

LOG_HELP = "消息记录"
LOG_TAIL_HELP = "最近的消息和回复"
LOG_N = "显示多少条（默认 20）"
LOG_OPENID = "只看这位粉丝（openid）"
LOG_HEADER = "时间为{zone}；→ 收到，← 回复"
LOG_LINE = "{at} {arrow} {openid} [{channel} {type}{timing}] {content}"
LOG_TIMING = " {ms:.1f} 毫秒"
LOG_CHANNELS = {"webhook": "消息", "passive": "被动回复", "customer": "客服消息", "held": "暂存待发"}

FOLLOWERS_HELP = "粉丝记录"
FORGET_HELP = "按粉丝的要求删除其消息记录和状态"
FORGET_OPENID = "粉丝的 openid"
FORGOTTEN = "已删除 {openid} 的数据：消息记录 {count} 条，以及粉丝记录和会话状态"

# `keywords test`: the rule that answers, in words (bot/router.py describes rules as "router: kind …").
ROUTER_NAMES = {"help": "帮助", "news": "新闻", "members": "会员", "keywords": "关键词规则", "pushes": "推送",
                "events": "事件", "fallback": "兜底回复", "replies": "回复"}
RULE_KINDS = {"exact": "完全相同", "prefix": "开头相同", "contains": "包含", "regex": "正则表达式",
              "event": "事件", "click": "菜单点击", "scene": "二维码场景", "type": "消息类型",
              "bare": "单独发送的单位名称", "greeting": "问候", "thanks": "致谢", "number": "序号", "more": "“更多”"}
TEST_NO_RULE = "“{text}”：没有规则回答（不回复）"
TEST_RULE = "“{text}” → {rule}"
TEST_SAYS = "  回复：{content}"
TEST_NEWS = "  图文：《{title}》{url} — {description}"
TEST_BUILT_IN = "  （内置命令：回答取决于当时的数据，这里不运行）"


def rule_name(describe: str) -> str:
    """"keyword rule #2: prefix 年会" → "关键词规则 #2：开头相同 年会"."""
    router, _, rule = describe.partition(": ")
    if router.startswith("keyword rule #"):
        router = f"{ROUTER_NAMES['keywords']} #{router.removeprefix('keyword rule #')}"
    else:
        router = ROUTER_NAMES.get(router, router)
    kind, _, what = rule.partition(" ")
    return f"{router}：{RULE_KINDS.get(kind, kind)} {what}".rstrip()
