"""Every sentence the console itself shows (the pushes' words are scheduler/texts.py, shared with
the CLI). Chinese, addressed as 您."""

from __future__ import annotations

TITLE = "公众号编辑后台"
ROLE = {"editor": "编辑", "approver": "审批人", "admin": "管理员"}

# The navigation: (label, route name, the least role that sees it). A name no page declares yet
# is shown greyed out, so the menu stays the same while pages arrive.
NAV = [
    ("工作台", "dashboard", "editor"),
    ("推送", "pushes", "editor"),
    ("文章", "articles", "editor"),
    ("会员", "members", "editor"),
    ("自动回复", "keywords", "editor"),
    ("菜单", "menu", "admin"),
    ("消息记录", "messages", "editor"),
    ("粉丝", "followers", "editor"),
    ("统计", "stats", "editor"),
    ("操作日志", "audit", "editor"),
    ("账号", "accounts", "admin"),
]
NAV_SOON = "（即将开放）"

LOGIN = "登录"
LOGOUT = "退出登录"
LOGIN_NAME = "账号"
LOGIN_PASSWORD = "密码"
LOGIN_WRONG = "账号或密码不正确，或账号已停用。"
LOGIN_LOCKED = "登录失败次数过多，为保护账号安全，请 {minutes} 分钟后再试；如忘记密码，请联系管理员。"
LOGIN_LEFT = "还可以再试 {n} 次。"
LOGIN_NEEDED = "请先登录。"
SESSION_IDLE = "您已超过 {minutes} 分钟没有操作，为安全起见请重新登录。"
SESSION_ENDED = "您的登录已失效（密码已更改或账号已停用），请重新登录。"
LOGGED_OUT = "您已退出登录。"

FORBIDDEN_TITLE = "没有权限"
FORBIDDEN = "您的账号（{role}）不能访问此页面或执行此操作。"
CSRF_TITLE = "请求已过期"
CSRF = "页面已过期或请求来源不明，请返回上一页刷新后再试。"
NOT_FOUND = "找不到您要的页面。"
BAD_INPUT = "输入有误：{reason}"

TZ_NOTE = "本页时间均为{zone}"

# --- accounts ------------------------------------------------------------------------------------

ACCOUNTS = "账号管理"
ACCOUNT_ERRORS = {
    "password_short": "密码至少需要 {n} 个字符。",
    "bad_name": "账号“{name}”不合规：只能用 2–64 个英文字母、数字、点、下划线或连字符。",
    "bad_role": "没有“{role}”这个角色：可选 editor（编辑）、approver（审批人）、admin（管理员）。",
    "name_taken": "账号“{name}”已存在。",
    "no_such_editor": "找不到账号“{name}”。",
}
ACCOUNT_ADDED = "已添加账号“{name}”（{role}）。"
ACCOUNT_DISABLED = "已停用账号“{name}”，其登录已立即失效。"
ACCOUNT_ENABLED = "已启用账号“{name}”。"
ACCOUNT_PASSWORD = "已为账号“{name}”设置新密码，其原有登录已失效。"
ACCOUNT_SELF = "不能停用您自己的账号。"

# --- audit -----------------------------------------------------------------------------------------

AUDIT = "操作日志"
ACTIONS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "editor_add": "添加账号",
    "editor_passwd": "更改密码",
    "editor_disable": "停用账号",
    "editor_enable": "启用账号",
    "push_create": "创建推送",
    "push_edit": "修改推送",
    "push_submit": "提交审批",
    "push_approve": "批准推送",
    "push_reject": "退回推送",
    "push_preview": "发送预览",
    "push_send_now": "立即发送",
    "push_cancel": "取消推送",
    "push_retry": "重试推送",
    "push_ack": "确认已知悉",
    "push_withdraw": "撤回推送",
    # part 2 (console/pages/articles, members, keywords, menu, messages)
    "article_edit": "修改文章",
    "article_cover": "更换封面",
    "article_ready": "标记可推送",
    "article_import": "导入文章",
    "member_import": "导入会员名录",
    "member_bind_code": "生成绑定码",
    "member_unbind": "解除绑定",
    "member_retire": "标记退会",
    "keyword_add": "添加自动回复",
    "keyword_edit": "修改自动回复",
    "keyword_delete": "删除自动回复",
    "keyword_reorder": "调整回复顺序",
    "menu_save": "保存菜单",
    "menu_sync": "同步菜单",
    "follower_erase": "删除粉丝数据",
}
VIA = {"console": "后台", "cli": "命令行"}

# --- pushes (console/pages/pushes.py, compose.py, preview.py; console/pushinfo.py) ----------------

TABS = [("draft", "草稿"), ("review", "待审批"), ("scheduled", "已排期"), ("sending", "发送中"),
        ("done", "已完成"), ("failed", "失败"), ("cancelled", "已取消")]
KIND_MEANS = {
    "publish": "发布：文章出现在公众号的“发表记录”里，有链接可以转发，但不推送给关注者、不在主页展示、不占用群发次数。",
    "broadcast": "群发：推送给全部（或某个标签的）关注者，出现在他们的消息列表里；占用群发次数（订阅号每天 1 次，"
                 "服务号每月 4 次，与公众平台上手动群发共用），发出后不能修改。",
}
DONE_SUBMIT = "已提交审批，审批人会在工作台看到它。"
DONE_APPROVE = "已批准：到计划时间会自动发出（不会提前）。"
DONE_REJECT = "已退回，作者会看到您的意见。"
DONE_SEND_NOW = "将立即发送，几秒内由系统完成。"
DONE_CANCEL = "已取消，文章已放回待推送。"
DONE_RETRY = "已安排重试。"
DONE_ACK = "已确认知悉，不再提醒。"
PREVIEW_CHOOSE = "请至少选择一位接收预览的编辑。"
PREVIEW_NO_DRAFT_YET = "草稿还没生成；生成后会自动把预览发给编辑。"
NO_ARTICLE = "（不存在）"
ARTICLE_DELETED = "文章已被删除"
CHOOSE_KIND = "请选择“发布”或“群发”：两者对关注者的影响不同，见说明"
CHOOSE_TIME = "请填写指定的发送时间，或选择“下一个空闲时段”"
CREATED = "已创建推送 #{id}，计划 {at}。草稿生成后可发送预览，然后提交审批。"
SAVED = "已保存推送 #{id}{note}。"
SAVED_UNAPPROVED = "；原有的批准已撤销，需要重新提交审批"
ACCOUNT_KIND = {"subscription": "订阅号", "service": "服务号"}
PERIOD_TODAY, PERIOD_DAY, PERIOD_MONTH = "今天", "当天", "本月"
WARN_TOO_MANY = "一次最多 {max} 篇文章，现在选了 {n} 篇"
WARN_MISSING = "文章 #{id} 不存在"
WARN_TITLE = "文章 #{id} 的标题有 {n} 个字，超过微信的 {max} 字上限，请在文章里设一个微信标题"
WARN_NO_COVER = "文章 #{id} 没有封面图，将使用默认封面"
WARN_BIG_IMAGE = "文章 #{id} 有图片大于 1 MB（最大 {mb:.1f} MB），上传时会被压缩"
WARN_LONG = "文章 #{id} 正文约 {n} 个字符，可能超过微信的 {max} 字符上限"
WARN_NOT_READY = "文章 #{id} 还没有标为可推送（已导入，待审核）"
WARN_QUOTA = "{account}{period}的群发次数（{allowed} 次）已用完：{at} 不能再群发"

# --- dashboard and calendar ------------------------------------------------------------------------

STEP_OVERDUE = ("错过了发送时间，没有发送", "可以“立即发送”，或修改时间")
STEP_STUCK = ("已交给微信很久了，还没有结果", "系统仍在核对；请到公众平台“发表记录”或“群发”里看一下")
STEP_FAILED = ("没有发出去", "看看时间线里的原因，改正后重试")
HEALTH_SCHEDULER, HEALTH_TOKEN = "推送调度", "接口凭证"
HEALTH_SCHEDULER_OFF = "本进程没有开启调度（[scheduler] enabled = false）"
HEALTH_SCHEDULER_NEVER = "还没有运行记录"
HEALTH_SCHEDULER_AGO = "上次运行在 {s} 秒前"
HEALTH_TOKEN_NONE = "目前没有缓存的凭证（下次调用接口时获取）"
HEALTH_TOKEN_LEFT = "还有 {m} 分钟到期（系统会提前自动更换）"
# The webhook's tiles (ops.summary.webhook_summary): the log's last hours, the counters since start.
WEBHOOK_TILES = "公众号消息（最近 {hours} 小时）"
WEBHOOK_MESSAGES = "收到的消息和事件"
WEBHOOK_WITHIN = "{budget:g} 秒内回复"
WEBHOOK_WITHIN_OF = "共回复 {n} 条"
WEBHOOK_FALLBACKS = "超时兜底回复"
WEBHOOK_DEDUPE = "微信重发已去重"
WEBHOOK_SINCE_START = "自进程启动以来"
WEBHOOK_NOTE = "前两项取自消息记录（所有进程）；后两项为各进程启动以来的计数，重启后从 0 开始。"
CAL_VIEWS = {"month": "月", "week": "周", "list": "列表"}
WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]
LOGIN_UNKNOWN = "（未知账号）"
LOGIN_LOCKED_NOTE = "锁定中"
