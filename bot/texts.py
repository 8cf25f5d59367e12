"""What the reply machinery itself says to followers (bot/dispatch.py): the rest of a long text behind
「更多」, and the answer when something failed. One place, so wording is edited here only."""

MORE = "更多"
MORE_HINT = "\n\n（未完，回复“更多”继续）"
MORE_TTL_SECONDS = 30 * 60

ERROR = "抱歉，系统开了个小差，请稍后再试。"
