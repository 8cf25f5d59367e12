"""Every sentence the console's editing pages show besides their templates' labels: 文章, 会员,
自动回复, 菜单, 消息记录 and 粉丝 (the foundation's are console/texts.py; the operations' own
sentences, such as an import row's reason, come from their packages). Chinese, addressed as 您."""

from __future__ import annotations

# --- 文章 ------------------------------------------------------------------------------------------
ARTICLES = "文章"
IMPORTS = "导入文章"
TITLE_TOO_LONG = "微信标题有 {n} 个字，超过微信规定的 {max} 个字，未保存。请缩短后再保存。"
DIGEST_TOO_LONG = "摘要有 {n} 个字，超过微信规定的 {max} 个字，未保存。"
ARTICLE_SAVED = "已保存文章 #{id}。"
ARTICLE_GONE = "找不到文章 #{id}。"
COVER_SAVED = "已更换文章 #{id} 的封面。"
COVER_NOT_OWN = "这张图片不是本文的图片。"
READY_DONE = "文章 #{id} 已标记为可推送。"
READY_ALREADY = "文章 #{id} 当前状态为“{status}”，无需标记。"
READY_NEEDS_TITLE = "文章 #{id} 的标题有 {n} 个字，超过 {max} 个字：请先设置微信标题，再标记可推送。"
IMPORT_NOTHING = "请填写网址，或选择一个保存的网页文件。"
IMPORT_STARTED = "已开始导入，本页会自动刷新显示进度。"
# The polled sources on the import page (what `main.py news sources` prints, as a table).
POLL_EVERY = "每 {span}"
POLL_CRON = "按计划：{cron}（北京时间的 cron 表达式）"
IMPORT_GONE = "找不到这次导入（服务重启后只保留新的导入记录）。"
IMPORT_NOT_URL = "网址应以 http:// 或 https:// 开头：{url}"

# --- 会员 ------------------------------------------------------------------------------------------
MEMBERS = "会员"
MEMBER_GONE = "找不到这家会员单位。"
UPLOAD_NOTHING = "请选择要上传的 .xlsx 或 .csv 文件。"
IMPORTED = "已导入：新增 {added} 家，更新 {updated} 家，无变化 {unchanged} 家，拒绝 {rejected} 行。"
CODE_ISSUED = "已为“{name}”生成绑定码，请立即复制并交给该单位：离开本页后将无法再次查看。"
UNBOUND = "已解除粉丝 {openid} 与“{name}”的绑定。"
NOT_BOUND = "粉丝 {openid} 并未绑定“{name}”。"
RETIRED = "已将“{name}”标记为退会。"
ALREADY_RETIRED = "“{name}”已于 {date} 退会。"
SEARCH_HOW = {
    "code": "按统一社会信用代码找到",
    "name": "按全称找到",
    "alias": "按简称找到",
    "initials": "按拼音首字母找到",
    "partial": "按名称中的字词找到",
    "typo": "没有完全相同的名称，以下是相近的单位",
    "follower": "该粉丝绑定的单位",
    "bad_code": "这是一个统一社会信用代码，但校验位不正确，请核对",
    "none": "没有找到符合的单位",
    "list": "",
}

# --- 自动回复 --------------------------------------------------------------------------------------
KEYWORDS = "自动回复"
MATCH_NAMES = {"exact": "完全一致", "prefix": "开头是", "contains": "包含", "regex": "正则表达式"}
RULE_ADDED = "已添加自动回复 #{id}，粉丝发来的消息立即按新规则回复。"
RULE_SAVED = "已保存自动回复 #{id}，粉丝发来的消息立即按新规则回复。"
RULE_UNCHANGED = "自动回复 #{id} 没有改动。"
RULE_DELETED = "已删除自动回复 #{id}。"
RULE_GONE = "找不到自动回复 #{id}（可能已被删除）。"
RULE_REFUSED = "未保存：{reason}"
RULE_MOVED = "已调整回复顺序。"
BAD_PRIORITY = "优先级应为整数：{value}"
TRY_NO_RULE = "没有规则回复这条消息（粉丝不会收到回复）。"
TRY_BUILT_IN = "由内置功能“{rule}”回复。其回复取决于粉丝本人的数据，这里不试运行。"
# The routers' names (bot/router.py describes a rule as "NAME: how it matches") as editors know them.
FEATURE_NAMES = {"help": "帮助说明", "news": "新闻查询", "members": "会员查询", "member_stats": "会员统计",
                 "events": "关注与菜单事件", "fallback": "默认回复", "keywords": "自动回复"}
RULE_SHOWN = "内置功能“{feature}”（{how}）"

# --- 菜单 ------------------------------------------------------------------------------------------
MENU = "自定义菜单"
MENU_SAVED = "菜单已保存（尚未同步到公众号）。"
MENU_REFUSED = "菜单未保存：有 {n} 处不符合微信的规定，请按提示修改。"
MENU_SYNCED = "菜单已同步到公众号：粉丝重新进入公众号后即可看到新菜单。"
MENU_SYNC_REFUSED = "微信拒绝了菜单：{error}"
MENU_FROM_CONFIG = "尚未在后台保存过菜单，下面是配置文件 [menu] 中的菜单。"
# The menu CLICK keys the bot answers (its routers' click rules), as the editor picks them.
CLICK_KEYS = {"NEWS_LATEST": "最新文章", "MEMBER_STATUS": "我的会员状态", "MEMBER_HELP": "会员查询帮助",
              "HELP": "帮助说明"}
CLICK_KEY_UNKNOWN = "机器人不回复这个 key：粉丝点击后不会收到回复"
ACCOUNT = "公众号"  # the preview's title bar when [wechat] display_name is not set
BUTTON_TYPES = {
    "click": "点击回复（key）",
    "view": "打开网页（url）",
    "miniprogram": "打开小程序",
    "scancode_push": "扫码",
    "scancode_waitmsg": "扫码并等待",
    "pic_sysphoto": "拍照",
    "pic_photo_or_album": "拍照或相册",
    "pic_weixin": "微信相册",
    "location_select": "发送位置",
    "media_id": "永久素材",
    "article_id": "已发表文章",
}

# --- 消息记录、粉丝 ---------------------------------------------------------------------------------
MESSAGES = "消息记录"
FOLLOWERS = "粉丝"
BAD_DAY = "日期格式应为 2026-03-01：{value}"
ERASE_CONFIRM_WRONG = "确认内容与粉丝 openid 不一致，未删除。"
ERASED = "已删除粉丝 {openid} 的数据：{rows} 条消息记录及其粉丝资料。"
PROFILE_UNAVAILABLE = "暂时无法从微信读取该粉丝的资料（{error}）。"
