"""Every sentence the scheduler shows people: editors' notices on the phone, `main.py push …` output and
help, the reasons stored on a push and the lines of its timeline. Chinese, addressed as 您; what to
do comes first in words, then the command (until the editors' console offers the page).

WeChat's error codes are explained here in plain words (the official 全局返回码说明 page,
https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html, and the pages
of each API), with what the editor can do about each.
"""

from __future__ import annotations

KIND = {"publish": "发布", "broadcast": "群发"}
BY = {"cli": "命令行", "pipeline": "系统", "auto_approve": "自动批准", "自动组稿": "自动组稿"}

STATE = {
    "planned": "已计划",
    "preparing": "正在生成草稿",
    "drafted": "草稿已生成",
    "previewed": "草稿已生成",
    "approved": "已批准，等待发送时间",
    "overdue": "错过发送时间，未发送",
    "submitting": "正在提交给微信",
    "submitted": "已提交，等待微信结果",
    "confirming": "等待管理员在微信上确认群发",
    "done": "已完成",
    "failed": "失败",
    "cancelled": "已取消",
    "withdrawn": "已撤回",
}
WAITING_APPROVAL = "草稿已生成，等待批准"

CMD = "python main.py push"

# --- WeChat's answers in words ---------------------------------------------------------------------

# code → (what happened, what to do). Codes the bot retries by itself say so.
ERRCODES: dict[int, tuple[str, str]] = {
    -1: ("微信系统繁忙", "系统会自动重试，您不需要做什么"),
    40001: ("公众号的接口凭证失效", "系统会自动换新凭证；反复出现请检查 AppSecret 是否被重置"),
    40014: ("公众号的接口凭证无效", "系统会自动换新凭证；反复出现请联系技术人员"),
    42001: ("公众号的接口凭证过期", "系统会自动换新凭证，您不需要做什么"),
    40013: ("AppID 不正确", "请技术人员核对配置中的 AppID"),
    40125: ("AppSecret 不正确", "请技术人员核对配置中的 AppSecret"),
    40243: ("AppSecret 已被冻结", "请管理员在公众平台解冻或重置 AppSecret"),
    40164: ("本服务器的 IP 不在公众号的白名单里", "请管理员在公众平台「设置与开发 → 基本配置 → IP白名单」里加上本服务器的 IP"),
    61004: ("本服务器的 IP 不在公众号的白名单里", "请管理员在公众平台「设置与开发 → 基本配置 → IP白名单」里加上本服务器的 IP"),
    40003: ("对方不是本公众号的关注者（或 openid 填错了）", "请确认对方已关注公众号，openid 没有填错"),
    43004: ("对方没有关注公众号", "请对方先关注公众号"),
    43019: ("对方已把公众号拉黑", "请对方在微信里把公众号移出黑名单"),
    45015: ("对方 48 小时内没有给公众号发过消息，公众号不能主动给他发消息", "请对方给公众号发一条消息，之后 48 小时内可以送达"),
    45047: ("对方上次发消息后，公众号能回复的条数已用完", "请对方再给公众号发一条消息"),
    40007: ("草稿或素材在微信上已失效或被删除", "请重新生成草稿后再发"),
    45002: ("内容超过了微信的长度限制", "请缩短文章后重试"),
    45008: ("图文消息的文章数超过了微信的限制", "请减少文章篇数"),
    40005: ("图片格式微信不支持", "请换成 JPG 或 PNG 图片"),
    40009: ("图片超过了微信的大小限制", "请换一张较小的图片"),
    47001: ("发给微信的数据格式不对（程序问题）", "请联系技术人员"),
    45009: ("这个接口今天的调用次数已用完", "次数在明天零点后恢复；系统会改到那之后"),
    45011: ("调用太频繁", "系统会在一分钟后自动重试"),
    45028: ("群发次数已用完", "系统会改到下一个可以群发的时间"),
    45065: ("这次群发微信已经收到过", "不会重复群发，您不需要做什么"),
    45066: ("重发太快", "系统会在一分钟后用同一编号重发，不会重复群发"),
    45067: ("群发编号太长（程序问题）", "请联系技术人员"),
    45103: ("这个接口微信已停用", "请联系技术人员"),
    45159: ("群发的标签不存在", "请在公众平台核对标签名后修改推送"),
    48001: ("公众号没有使用这个接口的权限", "请在公众平台确认公众号已认证、相应接口权限已开通"),
    48004: ("这个接口已被微信封禁", "请在公众平台查看封禁原因"),
    53503: ("草稿没有通过微信的发布检查", "请在公众平台草稿箱里查看原因，修改文章后重试"),
    53504: ("这篇草稿只能在公众平台网页上发表", "请在公众平台草稿箱里手动发表"),
    53505: ("这篇草稿需要先在公众平台网页上手动保存一次", "请在公众平台打开草稿保存后重试"),
}


def explain(code: int | None, message: str = "") -> str:
    """A WeChat error in words, with what to do: "对方没有关注公众号（微信错误码 43004）。请对方先关注公众号"."""
    if code is None:
        return f"没有收到微信的答复（{message or '网络问题'}）。系统会自动重试"
    what, todo = ERRCODES.get(code, (f"微信拒绝了请求（微信原话：{message or '无'}）", "请把错误码告诉技术人员"))
    return f"{what}（微信错误码 {code}）。{todo}"


def cause(code: int | None, message: str = "") -> str:
    """Only what happened (for a list of recipients)."""
    if code is None:
        return "没有收到微信的答复，不知道是否送达"
    return f"{ERRCODES.get(code, (f'微信拒绝了请求（{message}）', ''))[0]}（{code}）"


# publish_status of freepublish/get and PUBLISHJOBFINISH (发布能力 → 发布状态轮询接口).
PUBLISH_STATUS = {
    2: ("没有通过原创校验", "请在公众平台「发表记录」里查看原因，修改后重试"),
    3: ("发布失败，微信没有说明原因", "请在公众平台「发表记录」里查看；稍后可以重试"),
    4: ("没有通过平台审核", "请在公众平台「发表记录」里查看审核意见，修改文章后重试"),
    5: ("发布成功后文章被全部删除了", "如需重新发布，请重试"),
    6: ("发布成功后文章被全部封禁了", "请在公众平台查看封禁原因"),
}


def publish_failure(status: int, failed_titles: list[str], push_id: int) -> str:
    what, todo = PUBLISH_STATUS.get(status, (f"发布失败（发布状态 {status}）", "请在公众平台「发表记录」里查看"))
    which = "、".join(f"《{t}》" for t in failed_titles)
    return f"{which + ' ' if which else ''}{what}。{todo}（重试：{CMD} retry {push_id}）"


def mass_failure(status: str, push_id: int) -> str:
    return (f"群发没有成功（微信给出的状态：{status}）。请在公众平台「群发功能 → 已发送」里查看；"
            f"确认后可以重试：{CMD} retry {push_id}")


REASON_CONFIRM_TIMEOUT = "开启了群发保护，管理员没有在 30 分钟内在微信上确认，这次群发已作废。需要时请重试并及时确认"
REASON_LOST = "草稿已离开草稿箱（说明发布成功了），但已发表列表里找不到它。请在公众平台「发表记录」里核对"
REASON_UNVERIFIED = ("公众号没有认证（配置 [wechat] verified = false）：没有认证的公众号不能使用群发和发布接口，"
                     "所以没有尝试发送")
REASON_TOO_LONG = "文章 #{article} 放不进微信草稿：{reason}"
REASON_NO_ARTICLE = "文章 #{article} 已被删除"
REASON_UNKNOWN_TAG = "找不到标签“{tag}”（公众号现有标签：{known}）。请修改推送的标签后重试"
REASON_QUOTA = "{cause}，已改到 {at} 发送"

# --- the timeline (`push show`) --------------------------------------------------------------------

EV_CREATED = "创建（{by}）：文章 {ids}，计划 {at}"
EV_DRAFTED = "已生成微信草稿"
EV_OLD_DRAFT_DELETED = "已删除旧草稿"
EV_OLD_DRAFT_GONE = "旧草稿没能删除（{cause}），可能已不在草稿箱"
EV_NEWS_UPLOADED = "微信不接受草稿直接群发，已改为上传图文消息素材"
EV_PREVIEW = "预览：{summary}"
EV_APPROVED = "批准（{by}）"
EV_SEND_NOW = "立即发送（{by}）：原定 {at}"
EV_NOT_YET = "还没到发送时间，等到 {at}"
EV_SUBMITTED_PUBLISH = "已提交发布，等待微信结果"
EV_SUBMITTED_MASS = "已提交群发，等待微信结果"
EV_TOO_FAST = "微信要求稍后再发（45066），一分钟后用同一编号重发，不会重复群发"
EV_UNKNOWN_OUTCOME = "没有收到微信对提交的答复，稍后核对是否已发出"
EV_RECHECK_MASS = "核对：用同一编号重新提交群发（微信会认出是同一次，不会重复群发）"
EV_FOUND_PUBLISH = "核对：在已发表列表里找到了这次发布"
EV_DRAFT_LEFT = "核对：草稿已离开草稿箱，等它出现在已发表列表里"
EV_MAYBE_PUBLISHING = "核对：草稿还在草稿箱，可能仍在发布中，稍后再查"
EV_RESUBMIT = "核对：没有找到这次发布，草稿还在草稿箱，重新提交"
EV_POLL_PUBLISH = "查询发布结果：{status}"
EV_POLL_MASS = "查询群发结果：{status}"
EV_CALL_FAILED = "{what}没有成功：{cause}"
EV_RETRY_IN = "，{seconds:.0f} 秒后重试"
EV_EDITED = "修改（{by}）"
EV_REDRAFT = "修改（{by}）：将重新生成草稿"
EV_CANCELLED = "取消（{by}）"
EV_RETRIED = "重试（{by}），第 {attempt} 次，计划 {at}"
EV_WITHDRAWN = "撤回（{by}）：已从微信删除"
EV_WITHDRAW_FAILED = "撤回没有成功：{cause}"
EV_ACKED = "{by} 确认已知悉通知"
WHAT = {"uploads": "上传图片", "draft/add": "生成草稿", "submit": "提交", "preview": "发送预览",
        "approved": "提交", "planned": "生成草稿", "preparing": "生成草稿", "drafted": "发送预览",
        "previewed": "准备提交", "submitting": "核对提交结果", "submitted": "查询结果",
        "confirming": "查询结果"}

# --- previews --------------------------------------------------------------------------------------

PREVIEW_SENT = "已发到 {openid}"
PREVIEW_FAILED = "没能发到 {openid}：{cause}"
PREVIEW_UNKNOWN = "发给 {openid} 的结果未知（没有收到微信的答复）"
PREVIEW_NOBODY = "没有可发送的对象（配置 [editors] openids 为空）"
PREVIEW_LATER = "推送 #{id} 的草稿还没生成；生成后会把预览发给编辑（由运行中的 serve 或 `{cmd} run` 完成）"
PREVIEW_SUMMARY_OK = "{n} 人收到"
PREVIEW_SUMMARY_FAILED = "{n} 人没收到"

# --- notices (one customer-service text message each, read on a phone) -----------------------------

NOTICE_APPROVAL = ("推送 #{id} 等您批准：{count} 篇文章，计划 {at}{kind}。\n{preview}"
                   "同意发送，请运行：{cmd} approve {id}\n不发了，请运行：{cmd} cancel {id}")
NOTICE_PREVIEW_YOURS = "预览已发到您的微信，请先看一下。\n"
NOTICE_PREVIEW_NOT_YOURS = "预览没能发到您的微信：{cause}。可以在公众平台草稿箱里看，或重发预览：{cmd} preview {id}\n"
NOTICE_NO_PREVIEW = "可以在公众平台草稿箱里先看一下。\n"
NOTICE_SCHEDULED = ("推送 #{id} 的草稿已生成，将在 {at}自动{kind}：{count} 篇文章。\n"
                    "不想发送，请运行：{cmd} cancel {id}")
NOTICE_RESCHEDULED = ("推送 #{id} 没能按时{kind}：{cause}。已改到 {at} 发送，您不需要做什么。\n"
                      "要换时间，请运行：{cmd} edit {id} --at \"年-月-日 时:分\"")
NOTICE_DONE = "推送 #{id} 已{kind}：{count} 篇文章。\n{urls}"
NOTICE_FAILED = ("推送 #{id}（{kind}，{count} 篇）没有发出去：{reason}\n"
                 "修改后重新发送，请运行：{cmd} retry {id}\n知道了，请运行：{cmd} ack {id}")
NOTICE_OVERDUE = ("推送 #{id}（{kind}，原定 {at}）错过了发送时间超过 {grace} 分钟，没有发送。\n"
                  "现在发送，请运行：{cmd} send-now {id}\n改时间，请运行：{cmd} edit {id} --next-slot\n"
                  "不发了，请运行：{cmd} cancel {id}")
NOTICE_DIGEST = "您有 {n} 条推送通知：\n\n"
NOTICE_MORE = "\n\n（还有 {n} 条通知，稍后送达）"
# Why a notice is not (yet) delivered, or why it was dropped.
NOTICE_WINDOW_CLOSED = "编辑的客服消息窗口没有打开（48 小时内没有给公众号发消息，或回复条数已用完）；他下次给公众号发消息后送达"
NOTICE_OBSOLETE = "没有发送：推送 #{id} 已是“{state}”，这条通知不再属实"
NOTICE_ACKED = "没有发送：{by} 已确认知悉"
NOTICE_STATUS = {"pending": "待发送", "sending": "发送结果未知", "waiting": "等待编辑打开窗口", "sent": "已送达",
                 "obsolete": "已作废（不再属实）", "handed": "随编辑下一条消息送达"}

# --- `main.py push …` ------------------------------------------------------------------------------

HELP_PUSH = "计划、预览、批准和查看文章推送"
DESCRIPTION = (
    "编辑用这些命令计划、预览、批准和跟踪推送。\n\n"
    "create、edit、approve、send-now、cancel、retry、ack 只修改数据库；生成草稿、发送预览、到点发送\n"
    "由运行中的 `python main.py serve` 完成（几秒内），或运行 `python main.py push run` 在本窗口立即处理。\n"
    "preview 和 withdraw 会直接调用微信，马上告诉您结果。时间都按配置的时区（[scheduler] timezone，默认北京时间）。"
)
HELP_USAGE = "用法："
HELP_POSITIONALS = "参数"
HELP_OPTIONS = "选项"
HELP_ACTIONS = "操作"
HELP_H = "显示本帮助并退出"
HELP_CONFIG = "配置文件（默认 config.toml）"
HELP_ID = "推送编号（push list 里 # 后面的数字）"
HELP_ARTICLES = "文章编号，按顺序用逗号分开，如 3,1,2（1–8 篇；news list 可查编号）"
HELP_AT = "指定发送时间 \"年-月-日 时:分\"，如 \"2026-03-05 20:00\"（按配置的时区）"
HELP_NEXT_SLOT = "放到下一个空闲的发送时段（默认）"
HELP_BROADCAST = "群发给关注者（默认是“发布”：不推送给关注者，只生成文章链接）"
HELP_TAG = "只群发给带这个标签的关注者"
HELP_PREVIEW = "先把预览发给编辑（配置 [editors] openids）；修改时加上它会重发预览"
HELP_SOURCE_URL = "每篇文章的“阅读原文”链接（默认用文章在网站上的地址）"
HELP_NO_SOURCE_URL = "不要“阅读原文”链接"
HELP_COMMENTS = "打开留言"
HELP_FANS_ONLY = "只允许关注者留言"
HELP_IGNORE_REPRINT = "群发时被判定为转载也继续（原文允许转载时）"
HELP_YES = "不再询问，直接确认"
HELP_JSON = "输出 JSON（给程序读）"
HELP_N = "显示多少条（默认 50）"
HELP_TO = "发给这些关注者的 openid（默认：配置 [editors] openids 里的编辑）"
HELP_CMD = {
    "create": "计划一次推送（草稿由 serve 或 push run 生成）",
    "edit": "修改还没提交的推送（改了文章会重新生成草稿，需要重新批准）",
    "list": "推送列表，最新创建的在前，以及需要您处理的通知",
    "show": "一次推送的详情：文章、预览、时间线和通知",
    "preview": "把草稿的预览（重新）发给编辑或指定的人，马上告诉您结果",
    "approve": "批准草稿，到计划时间自动发送（不会提前发送）",
    "send-now": "不等计划时间，立即发送（会先问您确认）",
    "cancel": "取消还没提交的推送",
    "retry": "重新发送失败的推送（计划时间已过则放到下一个空闲时段）",
    "ack": "确认您已知悉推送的失败或错过时间的通知（不再列为待处理）",
    "withdraw": "把已完成的推送从微信删除（不能恢复，会先问您确认）",
    "compose": "立即自动组稿一次",
    "run": "在本窗口立即处理到期的推送工作（生成草稿、预览、到点发送、送达通知）",
}

CLI_CREATED = "已创建推送 #{id}：{kind}，{count} 篇，计划 {at}{extra}"
CLI_WITH_PREVIEW = "，会先发预览"
CLI_NEEDS_SERVE = "草稿、预览和发送由运行中的 `python main.py serve` 完成；也可以运行 `{cmd} run` 立即处理。"
CLI_APPROVED = "推送 #{id} 已批准，将在 {at}{kind}（不会提前）。要立即发送：{cmd} send-now {id}"
CLI_APPROVED_EARLY = "推送 #{id} 已批准；草稿生成后，将在 {at}{kind}（不会提前）"
CLI_ALREADY_APPROVED = "推送 #{id} 已经批准过了（{by}），将在 {at}{kind}。没有做任何改动。要立即发送：{cmd} send-now {id}"
CLI_OVERDUE_APPROVE = ("推送 #{id} 错过了发送时间（原定 {at}），批准不会让它发出。现在发送：{cmd} send-now {id}；"
                       "改时间：{cmd} edit {id} --next-slot 或 --at \"年-月-日 时:分\"")
CLI_SEND_NOW_ASK = "推送 #{id}（{kind}，{count} 篇，原定 {at}）将立即{kind}，不再等计划时间。确定吗？"
CLI_SEND_NOW = "推送 #{id} 将立即{kind}（原定 {at}）。由运行中的 serve 在几秒内完成，或运行 `{cmd} run`。"
CLI_WITHDRAW_ASK = "推送 #{id}（{kind}，{count} 篇）将从微信删除，关注者再也打不开这些文章，不能恢复。确定吗？"
CLI_NOT_CONFIRMED = "没有确认，什么也没做。"
CLI_NEEDS_YES = "这一步需要您确认：请在终端里运行，或加上 --yes。什么也没做。"
CLI_YES_NO = "（输入 y 确认，其他键取消）"
CLI_CANCELLED = "推送 #{id} 已取消"
CLI_RETRY = "推送 #{id} 将重新发送（第 {attempt} 次），计划 {at}。要立即发送：{cmd} send-now {id}"
CLI_EDITED = "推送 #{id} 已修改，计划 {at}"
CLI_REDRAFT = "。会重新生成草稿，需要重新批准"
CLI_BACK_ON_TIME = "，重新等待发送"
CLI_PREVIEW_AFTER_DRAFT = "。草稿生成后会发送预览"
CLI_WITHDRAWN = "推送 #{id} 已从微信撤回；这些文章的链接已失效，新闻回复改用网站上的原文地址"
CLI_ACKED = "已确认推送 #{id} 的 {n} 条通知，不再列为待处理"
CLI_NOTHING_TO_ACK = "推送 #{id} 没有需要确认的通知"
CLI_COMPOSED = "已自动组稿推送 #{id}：{count} 篇，计划 {at}"
CLI_NOTHING_TO_COMPOSE = "没有可组稿的文章（需要状态为“可推送”且还没推送过的文章）"
CLI_TICK = "处理了 {n} 个到期的推送，送达 {sent} 条通知"
CLI_ERROR = "错误：{e}"
CLI_NO_PUSHES = "还没有推送"
CLI_LIST_HEAD = "推送（最新创建的在前；时间为{zone}）："
CLI_ATTENTION_HEAD = "\n需要您处理的通知（处理后运行 {cmd} ack 编号）："
CLI_ATTENTION_REACHED = "已送达 {who}"
CLI_ATTENTION_NOBODY = "还没有送达任何编辑"
CLI_UNDELIVERED_HEAD = "\n还没送达的通知："

ERR_NO_PUSH = "没有编号为 {id} 的推送（push list 可查编号）"
ERR_BAD_IDS = "文章编号不对：{ids}（应为逗号分开的数字，如 3,1,2）"
ERR_MISSING_ARTICLES = "找不到文章：{ids}（news list 可查编号）"
ERR_TOO_MANY = "一次推送最多 8 篇文章，您给了 {n} 篇"
ERR_DUPLICATE_ARTICLES = "文章重复了：{ids}"
ERR_ARTICLE_TAKEN = "文章 #{id} 已在另一个推送里；请先取消那个推送，或换一篇"
ERR_NOT_READY = "文章 #{id} 还没标为可推送；请先运行 `python main.py news ready {id}`"
ERR_STATE = "推送 #{id} 现在是“{state}”，不能{action}"
ERR_CHANGED = "推送 #{id} 刚被修改（可能是系统正在处理它），请再运行一次"
ERR_COMPOSED_ELSEWHERE = "这次自动组稿已由另一个进程完成"
ERR_UNVERIFIED = REASON_UNVERIFIED
ERR_TAG_NEEDS_BROADCAST = "--tag 只能和 --broadcast 一起用（发布不推送给关注者，没有标签可选）"
ERR_NO_DRAFT = "推送 #{id} 现在是“{state}”，微信草稿箱里已没有它的草稿，不能预览"
ERR_OVERDUE_NEEDS_TIME = "推送 #{id} 已错过原定时间；请用 --at 指定新的时间，或 --next-slot 放到下一个空闲时段"

# Argument errors argparse reports, in words.

# --- times and slots (scheduler/planning.py) -------------------------------------------------------

ZONE_NAMES = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间", "Asia/Harbin": "北京时间",
              "PRC": "北京时间", "Asia/Hong_Kong": "香港时间", "Asia/Taipei": "台北时间", "UTC": "UTC 时间"}
ERR_TIME_FORMAT = "时间格式不对：{text!r}，应为 \"年-月-日 时:分\"，如 \"2026-03-05 20:00\"（{zone}）"
ERR_PAST = "{at} 已经过去了（现在是 {now}）"
ERR_NO_SLOTS = "没有配置发送时段：请在 config.toml 的 [scheduler] slots 里设置，或用 --at 指定时间"
ERR_NO_FREE_SLOT = "{days} 天内没有空闲的发送时段；请用 --at 指定时间"
ERR_SLOT_DAY = "配置 [scheduler] slots 里的 {day!r} 不是星期（请用 mon、tue … sun）"
ERR_SLOT_TIME = "配置 [scheduler] slots.{day} 的时间 {values} 不对（请用 \"时:分\"，如 \"20:00\"）"
QUOTA_SUBSCRIPTION = "订阅号每天只能群发 1 次"
QUOTA_SERVICE = "服务号每月只能群发 4 次"
ERR_QUOTA = "{at} 不能群发：{rule}，这段时间已有推送 {holders} 群发。最早可以在 {next} 群发（用 --at 指定，或 --next-slot）"
ERR_RETRY_NOW = "；要立即重发，请运行：{cmd} send-now {id}"
NOTICE_SUPERSEDED = "没有发送：有一条更新的同类通知"
CLI_OVERDUE_WHY = "错过了发送时间（原定 {at}）"
CLI_SHOW_HEAD = "推送 #{id}：{kind}{tag}，{status}"
CLI_SHOW_TAG = "（标签 {tag}）"
CLI_SHOW_PLANNED = "计划：{at}{pinned}；第 {attempt} 次尝试"
CLI_SHOW_PINNED = "，编辑指定"
CLI_SHOW_SENT = "发出：{at}"
CLI_SHOW_FINISHED = "结束：{at}"
CLI_SHOW_REASON = "原因：{reason}"
CLI_SHOW_ARTICLES = "文章："
CLI_SHOW_DELETED = "（已删除）"
CLI_SHOW_PREVIEWS = "预览："
CLI_SHOW_OLD_DRAFT = "（旧草稿）"
CLI_SHOW_TIMELINE = "时间线（{zone}）："
CLI_SHOW_NOTICES = "编辑通知："
CLI_SHOW_ACKED = "，{by} 已确认"
HELP_ACTIONS_LINE = "选一个操作，再加 --help 看它的用法"
CLI_SHOW_WITHDRAWN = "（已从微信撤回，链接已失效）"

# --- approval (scheduler/review.py) ----------------------------------------------------------------

REVIEW = {"draft": "草稿", "submitted": "待审批", "rejected": "已退回", "approved": "已批准"}
EV_SUBMITTED_FOR_REVIEW = "提交审批（{by}）"
EV_REJECTED = "退回（{by}）：{comment}"
ERR_REVIEW_STATE = "推送 #{id} 现在是“{review}”，不能{action}"
ERR_REJECT_NEEDS_COMMENT = "退回时请写明原因，作者会看到它"
ERR_SELF_APPROVAL = ("推送 #{id} 是您创建的，不能由您自己批准：请另一位审批人批准"
                     "（单人办公可在配置中设 [console] allow_self_approval = true）")
ERR_ALREADY_APPROVED = "推送 #{id} 已经批准过了"
