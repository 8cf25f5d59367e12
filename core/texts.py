"""What the configuration's errors say: an operator reads them when `main.py` refuses to start."""

from __future__ import annotations

TOP_LEVEL = "（顶层）"
INVALID = "配置有误：\n  {lines}"
NOT_FOUND = "找不到配置文件：{path}"
NOT_TOML = "{path}：不是有效的 TOML：{error}"
GOT = "（现为 {value}）"
HIDDEN = "（密钥，不显示）"

# pydantic's error types, as the key's expectation; {…} from the error's context.
BY_TYPE = {
    "missing": "缺少此项（必填）",
    "extra_forbidden": "未知的配置项",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须不小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须不大于 {le}",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "至多 {max_length} 个字符",
    "literal_error": "须为 {expected} 之一",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false",
    "string_type": "须为文字（加引号）",
    "list_type": "须为列表，如 [\"a\", \"b\"]",
    "dict_type": "须为一个表（[节] 或 {…}）",
}

AES_KEY = "须为空（明文模式）或 43 位字母和数字"
HTTP_URL = "须以 http:// 或 https:// 开头"
MODE_NEEDS_KEY = "兼容模式和安全模式需要 encoding_aes_key（消息加解密密钥）"
WEBHOOK_PATH = "须为单独的路径，如 \"/wechat\""
BODY_TIMEOUT = "须短于 reply_budget_seconds"
DATABASE_URL = "须为 sqlite+aiosqlite:// 或 postgresql+asyncpg:// 开头的地址"
TIME_ZONE = "未知的时区 {zone!r}"
CONSOLE_PATH = "须形如 /console"
ROLES = "每个类别列一次，每个 1 至 20 个字符"
POLL_NEEDS_URL = "定时轮询的来源需要 url（新闻列表页）或 base_url"
POLL_FORMAT = "须为 \"every N min\"（单位 s、min 或 h）或五段的 cron 表达式"
POLL_POSITIVE = "间隔须大于 0"
