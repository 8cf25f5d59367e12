"""Every sentence the scheduler shows editors (notices through WeChat, CLI output), in one place."""

KIND = {"publish": "发布", "broadcast": "群发"}

STATE = {
    "planned": "已计划",
    "preparing": "准备中（上传图片、生成草稿）",
    "drafted": "已生成草稿",
    "previewed": "已发送预览",
    "approved": "已批准，等待发送时间",
    "overdue": "错过发送时间，等待编辑处理",
    "submitting": "提交中（结果待确认）",
    "submitted": "已提交，等待微信结果",
    "confirming": "等待管理员确认群发",
    "done": "已完成",
    "failed": "失败",
    "cancelled": "已取消",
    "withdrawn": "已撤回",
}

# Editor notices (customer-service text messages; kept in the notifications table either way).
NOTICE_DRAFTED = "推送 #{id}（{kind}，{at}）已生成草稿：{titles}"
NOTICE_APPROVAL = (
    "推送 #{id}（{kind}，{at}）已生成草稿{preview}，需要批准：{titles}\n"
    "批准：python main.py push approve {id}"
)
NOTICE_PREVIEW_SENT = "，预览已发到编辑微信"
NOTICE_DONE = "推送 #{id}（{kind}）已完成：{titles}\n{urls}"
NOTICE_FAILED = "推送 #{id}（{kind}）失败：{reason}\n重试：python main.py push retry {id}"
NOTICE_OVERDUE = (
    "推送 #{id}（{kind}，原定 {at}）错过发送时间超过 {grace} 分钟，未发送。\n"
    "仍要发送：python main.py push approve {id}；取消：python main.py push cancel {id}"
)
NOTICE_RESCHEDULED = "推送 #{id}（{kind}）因微信配额限制（{code}）改到 {at} 发送"

# Reasons recorded on the push (error_reason) and shown by `push show`.
REASON_UNVERIFIED = "公众号未认证（[wechat] verified = false）：未认证账号不能使用群发和发布接口，未尝试发送"
REASON_TOO_LONG = "文章 #{article} 无法放入微信草稿：{reason}"
REASON_NO_ARTICLE = "文章 #{article} 已不存在"
REASON_UNKNOWN_TAG = "找不到标签 “{tag}”（可用：{known}）"
REASON_PUBLISH_STATUS = {
    2: "原创校验未通过",
    3: "发布失败",
    4: "平台审核不通过",
    5: "发布成功后文章被全部删除",
    6: "发布成功后文章被全部封禁",
}
REASON_CONFIRM_TIMEOUT = "群发保护：管理员未在 30 分钟内确认，群发已失败"
REASON_LOST = "草稿已离开草稿箱（发布已成功），但在已发布列表中找不到它；请在公众平台核对"
REASON_QUOTA = "微信配额已用完（{code}），改到 {at}"
REASON_WECHAT = "微信返回错误 {code}：{message}"
REASON_MASS_STATUS = "群发失败：{status}"

# CLI.
CLI_CREATED = "已创建推送 #{id}：{kind}，{count} 篇，计划 {at}（{zone}）{extra}"
CLI_NEEDS_SERVE = "（草稿、预览和发送由运行中的 `python main.py serve` 完成，或运行 `python main.py push run`）"
CLI_APPROVED = "推送 #{id} 已批准"
CLI_CANCELLED = "推送 #{id} 已取消"
CLI_RETRY = "推送 #{id} 将重新发送（第 {attempt} 次尝试）"
CLI_EDITED = "推送 #{id} 已修改{redraft}"
CLI_REDRAFT = "，将重新生成草稿并需要重新批准"
CLI_WITHDRAWN = "推送 #{id} 已撤回"
CLI_COMPOSED = "已自动组稿推送 #{id}：{count} 篇，计划 {at}"
CLI_NOTHING_TO_COMPOSE = "没有可组稿的文章（状态为 ready 且尚未推送的文章）"
ERR_NO_PUSH = "没有编号为 {id} 的推送"
ERR_BAD_IDS = "文章编号不对：{ids}（应为逗号分隔的数字，如 3,1,2）"
ERR_MISSING_ARTICLES = "找不到文章：{ids}"
ERR_TOO_MANY = "一次推送最多 8 篇文章，给了 {n} 篇"
ERR_DUPLICATE_ARTICLES = "文章重复：{ids}"
ERR_NOT_READY = "文章 #{id} 的状态是 {status}；请先 `python main.py news ready {id}`"
ERR_STATE = "推送 #{id} 当前状态为“{state}”，不能{action}"
ERR_UNVERIFIED = REASON_UNVERIFIED
ERR_TAG_NEEDS_BROADCAST = "--tag 只能和 --broadcast 一起用"
