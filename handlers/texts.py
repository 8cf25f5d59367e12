"""What the bot says to followers in the webhook's own handlers (help, events, fallback). One place,
so wording is edited here only (the reply machinery's own words are bot/texts.py's). Welcome and
fallback texts are configurable in `[replies]`."""

HELP_HEADER = "您可以这样使用本公众号："
HELP_FOOTER = "随时回复“帮助”再看这份说明。"
HELP_EMPTY = "暂时没有可用的命令。"

# What people say that is not a command (handlers/fallback.py); compared without punctuation, spaces
# or a trailing 啊/呀…, in lower case.
GREETINGS = frozenset(
    "你好 您好 你们好 大家好 老师好 嗨 哈喽 哈啰 hi hello hey 在吗 在么 在不在 有人吗 早 早安 早上好 上午好 "
    "中午好 下午好 晚上好".split()
)
GREETING = "您好！"
GREETING_NAMED = "您好！这里是{name}。"
THANKS = frozenset("谢谢 谢谢你 谢谢您 感谢 多谢 非常感谢 辛苦了 thanks thankyou thx".split())
THANKS_REPLY = "不客气！还有需要随时发消息给我，回复“帮助”查看可用的功能。"
NUMBER_NO_LIST = "这个序号没有对应的列表（列表可能已过期）。请重新发送“会员 单位名称”或“新闻”，再回复序号。"
NUMBER_OUT_OF_RANGE = "请回复列表中的序号（1–{n}）。"
NO_MORE = "没有更多内容了。回复“帮助”查看可用的功能。"

SCAN = "您扫描了二维码（场景：{scene}）。回复“帮助”查看我能做什么。"
UNKNOWN_CLICK = "这个菜单暂时没有内容，请稍后再试，或回复“帮助”查看可用的功能。"
IMAGE = "收到您的图片，谢谢！如需人工帮助，请留言说明。"
VOICE = "收到您的语音。暂时只能识别文字消息，请用文字告诉我您想查什么。"
VOICE_RECOGNIZED = "收到您的语音：“{text}”。请直接发送文字，我会为您查找。"
VIDEO = "收到您的视频，谢谢！"
LOCATION = "收到您的位置：{label}。"
LOCATION_UNNAMED = "收到您的位置，谢谢！"
LINK = "收到您分享的链接《{title}》，谢谢！"
OTHER = "收到。回复“帮助”查看我能做什么。"

# A text with nothing in it (only spaces): no lookup, a prompt and the help.
BLANK = "您发来的消息是空白的。您可以发送以下内容："
