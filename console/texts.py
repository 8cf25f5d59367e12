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
