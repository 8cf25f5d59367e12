"""What editors read about the message log and followers (the console's 消息记录 and 粉丝 pages)."""

from __future__ import annotations

CHANNELS = {"webhook": "消息", "passive": "被动回复", "customer": "客服消息", "held": "暂存待发"}
DIRECTIONS = {"in": "粉丝发来", "out": "公众号回复"}

# The types an editor filters by: a message type, or an event (logged as "event:<name>").
TYPES = {
    "text": "文字",
    "image": "图片",
    "voice": "语音",
    "video": "视频",
    "shortvideo": "小视频",
    "location": "位置",
    "link": "链接",
    "news": "图文",
    "event": "事件（全部）",
    "event:subscribe": "关注",
    "event:subscribe_scan": "扫码关注",
    "event:unsubscribe": "取消关注",
    "event:scan": "扫码",
    "event:click": "点击菜单",
    "event:view": "菜单链接",
}

# 获取用户基本信息 (user/info) subscribe_scene values,
# https://developers.weixin.qq.com/doc/service/api/usermanage/userinfo/api_userinfo
SCENES = {
    "ADD_SCENE_SEARCH": "搜索公众号",
    "ADD_SCENE_ACCOUNT_MIGRATION": "公众号迁移",
    "ADD_SCENE_PROFILE_CARD": "名片分享",
    "ADD_SCENE_QR_CODE": "扫描二维码",
    "ADD_SCENE_PROFILE_LINK": "图文页内名称点击",
    "ADD_SCENE_PROFILE_ITEM": "图文页右上角菜单",
    "ADD_SCENE_PAID": "支付后关注",
    "ADD_SCENE_WECHAT_ADVERTISEMENT": "微信广告",
    "ADD_SCENE_REPRINT": "他人转载",
    "ADD_SCENE_LIVESTREAM": "视频号直播",
    "ADD_SCENE_CHANNELS": "视频号",
    "ADD_SCENE_WXA": "小程序关注",
    "ADD_SCENE_OTHERS": "其他",
}

SOURCE_QR = "扫描带参数二维码（场景 {scene}）"
SOURCE_SUBSCRIBE = "关注（搜索、名片等）"
SOURCE_UNKNOWN = "未记录"

ERASE_EFFECT = (
    "将永久删除粉丝 {openid} 的 {rows} 条消息记录、粉丝资料、对话状态和暂存待发的消息，不可恢复。"
)
ERASE_BINDINGS = "其会员绑定（{names}）不受影响，如需解除请到对应会员页。"
ERASE_NOTHING = "没有这位粉丝的任何记录。"


def type_name(msg_type: str) -> str:
    return TYPES.get(msg_type, msg_type)
