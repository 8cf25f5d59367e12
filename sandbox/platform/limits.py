"""Every number the local platform enforces: token lifetimes, customer-service windows, upload and article
sizes, mass-send quotas, menu button types and the daily call quotas per endpoint. Each comes from the
official page named beside it; "unconfirmed" marks a value no official page states."""

from __future__ import annotations

# Access tokens: 获取 Access token
# (https://developers.weixin.qq.com/doc/service/en/Basic_Information/Get_access_token.html) and
# 获取稳定版接口调用凭据 (https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken).
TOKEN_TTL = 7200
TOKEN_OVERLAP = 300  # a replaced token stays valid 5 more minutes (both pages say so)
FORCE_REFRESH_PER_DAY = 20
FORCE_REFRESH_MIN_GAP = 30

# Customer-service windows, since 2023: 客服消息
# (https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Messages.html).
KF_MESSAGE_WINDOW = 48 * 3600  # after a follower's message: 5 messages in 48 h
KF_MESSAGE_QUOTA = 5
KF_EVENT_WINDOW = 60  # after click/subscribe/scan: 3 messages in 1 minute
KF_EVENT_QUOTA = 3
KF_TEXT_MAX_BYTES = 2048  # community-measured ceiling (unconfirmed officially)

# Uploads: 上传图文消息图片 (https://developers.weixin.qq.com/doc/service/api/material/permanent/api_uploadimage)
# and 新增永久素材 (https://developers.weixin.qq.com/doc/service/api/material/permanent/api_addmaterial).
UPLOADIMG_MAX = 1024 * 1024  # "< 1 MB"
IMAGE_MATERIAL_MAX = 10 * 1024 * 1024
THUMB_MAX = 64 * 1024
TEMP_MEDIA_TTL = 3 * 86400  # uploadnews media_ids expire like temporary media (3 days)

# Articles: 新建草稿 (https://developers.weixin.qq.com/doc/service/api/draftbox/draftmanage/api_draft_add).
TITLE_MAX = 32
AUTHOR_MAX = 16
DIGEST_MAX = 128
CONTENT_MAX_CHARS = 20_000
CONTENT_MAX_BYTES = 1024 * 1024
SOURCE_URL_MAX_BYTES = 1024
# Max articles per draft: 8 as in the old add_news; not stated for draft/add (unconfirmed). More → 45008.
DRAFT_MAX_ARTICLES = 8

# Mass send: 群发接口和原创校验
# (https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html).
CLIENTMSGID_MAX_BYTES = 64  # commonly cited, unconfirmed
CLIENTMSGID_TTL = 86400
PROTECTION_TIMEOUT = 30 * 60  # API 群发保护: an administrator must confirm within 30 min
SUBSCRIPTION_MASS_PER_DAY = 1
SERVICE_MASS_PER_MONTH = 4

# Button types: 创建自定义菜单 (https://developers.weixin.qq.com/doc/service/api/custommenu/api_createcustommenu).
MENU_TYPES = {
    "click", "view", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
    "pic_weixin", "location_select", "media_id", "view_limited", "article_id", "article_view_limited",
    "miniprogram",
}

# Daily call quotas per endpoint: 接口调用频次限制说明
# (https://developers.weixin.qq.com/doc/service/Message_Management/API_Call_Limits.html). Values marked *
# are not on that page (unconfirmed): they are set generously so that only the documented ones bite;
# raise any with set_quota().
DAILY_LIMITS: dict[str, int] = {
    "token": 2000,
    "stable_token": 500_000,
    "message/custom/send": 500_000,
    "media/uploadimg": 100_000,  # *
    "media/uploadnews": 1000,  # *
    "material/add_material": 5000,  # *
    "draft/add": 1000, "draft/get": 500, "draft/delete": 1000, "draft/update": 1000,
    "draft/count": 1000, "draft/batchget": 1000,
    "freepublish/submit": 100, "freepublish/get": 100, "freepublish/delete": 10,
    "freepublish/getarticle": 100, "freepublish/batchget": 100,
    "message/mass/sendall": 100, "message/mass/send": 100,  # 高级群发 100/day
    "message/mass/preview": 100,  # *
    "message/mass/get": 1000, "message/mass/delete": 1000,  # *
    "tags/get": 1000,  # *
    "menu/create": 1000, "menu/get": 10_000, "menu/delete": 1000,  # get/delete *
    "user/get": 500, "user/info": 5_000_000,
}
DEFAULT_DAILY_LIMIT = 10_000

# Analytics (数据统计 / datacube): the guide 数据统计
# (https://developers.weixin.qq.com/doc/service/guide/product/analysis_data/analysis_data.md), the legacy span
# tables (https://developers.weixin.qq.com/doc/service/en/Analytics/User_Analysis_Data_Interface.html,
# https://developers.weixin.qq.com/doc/service/en/Analytics/Graphic_Analysis_Data_Interface.html) and each API's
# page (https://developers.weixin.qq.com/doc/service/api/wedata/news/api_getarticleread and its siblings).
# A span of N days: end_date − begin_date < N (N = 1: begin_date = end_date).
DATACUBE_SPANS = {
    "getusersummary": 7, "getusercumulate": 7,  # 用户分析: "最大跨度7天"
    "getarticlesummary": 1, "getarticletotal": 1, "getuserread": 3, "getuserreadhour": 1,
    "getusershare": 7, "getusersharehour": 1,  # 图文分析 (legacy span table)
    "getarticleread": 1, "getarticleshare": 1, "getarticletotaldetail": 1,  # "日期范围仅支持查询1天"
    "getbizsummary": 30,  # "查询日期范围的长度最长支持查询30天"
}
# Yesterday's data is ready after 08:00 platform time ("建议每日8点后查询前一天数据", the CN guide).
DATACUBE_READY_HOUR = 8
LEGACY_DATA_START = "2014-12-01"  # the legacy pages: data are stored from 2014-12-01
NEW_DATA_START = "2025-11-01"  # 发表内容 APIs: "数据存储起始时间为2025-11-01，之前日期数据无效"
# getarticlesummary lists an article only if int_page_read_user + ori_page_read_user + share_user +
# share_count + add_to_fav_count ≥ 3 (the guide).
ARTICLESUMMARY_MIN_INTERACTIONS = 3
# getarticletotal "最多统计发表日后7天数据"; getarticletotaldetail "每篇文章仅统计发表日期起30天内". The send
# day is counted as the first of them (unconfirmed). The community sees the same 7 days for getarticlesummary.
LEGACY_ARTICLE_DAYS = 7
NEW_ARTICLE_DAYS = 30
