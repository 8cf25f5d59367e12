"""Every limit of the WeChat platform the product obeys, each beside the official page that states it
(or a note that it is measured, not stated). A module of numbers that imports nothing, so the content
store's rules (title, digest) name the same limits as the replies and the API client.

The local platform (sandbox/platform/limits.py) keeps its own copy on purpose: it is an independent
implementation, and the two check each other.
"""

from __future__ import annotations

from datetime import date, timedelta

# --- 被动回复用户消息 (passive replies),
# https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
# A news reply to a follower's text, image, voice, video, link or location message carries 1 article;
# to anything else (an event) at most 8. wechatpy still allows 10, so the limit is ours.
NEWS_TO_MESSAGE = 1
NEWS_TO_EVENT = 8
# Text, passive or customer-service: not stated; the community measures 2,048 UTF-8 bytes (45002
# "content size out of limit" beyond it), and SDKs split there.
TEXT_BYTES = 2048

# --- 客服消息 (customer-service messages),
# https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Messages.html
# What a follower's last action lets the account send outside a passive reply: a message opens
# 5 sends in 48 h; a menu click (click, scancode_push, scancode_waitmsg), a subscribe or a scan
# opens 3 sends in 1 minute. A news message carries 1 article (45008 beyond it).
MESSAGE_WINDOW = (timedelta(hours=48), 5)
EVENT_WINDOW = (timedelta(minutes=1), 3)
CUSTOMER_NEWS_ARTICLES = 1

# --- 草稿箱 新建草稿 (draft/add),
# https://developers.weixin.qq.com/doc/service/api/draftbox/draftmanage/api_draft_add
TITLE_CHARS = 32
AUTHOR_CHARS = 16
DIGEST_CHARS = 128
CONTENT_CHARS = 20_000  # "< 20,000 characters", counted over the whole HTML string
CONTENT_BYTES = 1_000_000  # "< 1 MB"; 10^6 bytes in case MB means that
SOURCE_URL_BYTES = 1024  # 阅读原文 (content_source_url), "≤ 1 KB"
# Articles in one draft: 8 in the old add_news, not stated for draft/add; 8 is what the product sends.
DRAFT_ARTICLES = 8

# --- 自定义菜单 创建接口 (menu/create),
# https://developers.weixin.qq.com/doc/service/api/custommenu/api_createcustommenu
MENU_TOP_BUTTONS = 3
MENU_SUB_BUTTONS = 5
MENU_TOP_NAME_BYTES = 16
MENU_SUB_NAME_BYTES = 60  # older docs said 40; the current page says 60. We allow 60: WeChat is the judge.
MENU_KEY_BYTES = 128
MENU_URL_BYTES = 1024

# --- 数据统计 (datacube), the guide https://developers.weixin.qq.com/doc/offiaccount/Analytics/User_Analysis_Data_Interface.html,
# https://developers.weixin.qq.com/doc/offiaccount/Analytics/Graphic_Analysis_Data_Interface.html and the 发表内容
# pages (https://developers.weixin.qq.com/doc/subscription/api/wedata/news/api_getarticleread and siblings).
# The most days one query may span (end − begin < span).
DATACUBE_SPANS = {
    "getusersummary": 7, "getusercumulate": 7, "getarticlesummary": 1, "getarticletotal": 1,
    "getuserread": 3, "getuserreadhour": 1, "getusershare": 7, "getusersharehour": 1,
    "getarticleread": 1, "getarticleshare": 1, "getbizsummary": 30, "getarticletotaldetail": 1,
}  # fmt: skip
DATACUBE_READY_HOUR = 8  # "建议每日8点后查询前一天数据": yesterday's figures exist from 08:00 Beijing time
DATACUBE_LEGACY_START = date(2014, 12, 1)
DATACUBE_NEW_START = date(2025, 11, 1)  # 发表内容: "数据存储起始时间为2025-11-01"
DATACUBE_NEW_ARTICLE_DAYS = 30  # getarticletotaldetail covers the 30 days after publishing
DATACUBE_LEGACY_ARTICLE_DAYS = 7  # getarticletotal: the 7 days after sending
