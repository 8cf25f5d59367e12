"""Local platform: access_token and stable_token semantics (获取 Access token, 获取稳定版接口调用凭据)."""

from sandbox.platform import FORCE_REFRESH_PER_DAY

APPID, SECRET = "wxtest0000000001", "test-secret"


def stable(force=False, appid=APPID, secret=SECRET):
    return {"grant_type": "client_credential", "appid": appid, "secret": secret, "force_refresh": force}


async def test_stable_token_is_the_same_while_valid_and_expires_after_7200s(sandbox):
    first = await sandbox.api("stable_token", stable())
    assert first["expires_in"] == 7200
    sandbox.advance(3000)
    again = await sandbox.api("stable_token", stable())
    assert again["access_token"] == first["access_token"]
    assert 4198 <= again["expires_in"] <= 4200
    assert (await sandbox.api("tags/get", method="GET", token=first["access_token"]))["errcode"] == 0
    sandbox.advance(4201)
    expired = await sandbox.api("tags/get", method="GET", token=first["access_token"])
    assert expired["errcode"] == 42001
    fresh = await sandbox.api("stable_token", stable())
    assert fresh["access_token"] != first["access_token"]


async def test_wrong_credentials_missing_and_unknown_token(sandbox):
    assert (await sandbox.api("stable_token", stable(appid="wxnope")))["errcode"] == 40013
    assert (await sandbox.api("stable_token", stable(secret="nope")))["errcode"] == 40125
    assert (await sandbox.api("token", method="GET", query={
        "grant_type": "client_credential", "appid": APPID, "secret": "nope"}))["errcode"] == 40125
    answer = await sandbox.api("tags/get", method="GET", query={"access_token": ""})
    assert answer["errcode"] == 41001 and answer["errmsg"].startswith("access_token missing")
    assert (await sandbox.api("tags/get", method="GET", token="forged"))["errcode"] == 40001


async def test_force_refresh_keeps_old_token_five_minutes_limits_rate_and_daily_count(sandbox):
    old = (await sandbox.api("stable_token", stable()))["access_token"]
    new = (await sandbox.api("stable_token", stable(force=True)))["access_token"]
    assert new != old
    sandbox.advance(299)
    assert (await sandbox.api("tags/get", method="GET", token=old))["errcode"] == 0
    sandbox.advance(2)
    assert (await sandbox.api("tags/get", method="GET", token=old))["errcode"] == 40001
    assert (await sandbox.api("tags/get", method="GET", token=new))["errcode"] == 0
    # ≥ 30 s apart
    sandbox.advance(10)
    await sandbox.api("stable_token", stable(force=True))
    assert (await sandbox.api("stable_token", stable(force=True)))["errcode"] == 45011
    # at most 20 a day (2 used above)
    for _ in range(FORCE_REFRESH_PER_DAY - 2):
        sandbox.advance(31)
        assert "access_token" in await sandbox.api("stable_token", stable(force=True))
    sandbox.advance(31)
    assert (await sandbox.api("stable_token", stable(force=True)))["errcode"] == 45009
    sandbox.advance(86400)  # the next (Beijing) day
    assert "access_token" in await sandbox.api("stable_token", stable(force=True))


async def test_get_token_replaces_previous_with_five_minute_overlap(sandbox):
    q = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    a = (await sandbox.api("token", method="GET", query=q))["access_token"]
    b = (await sandbox.api("token", method="GET", query=q))["access_token"]
    assert a != b
    assert (await sandbox.api("tags/get", method="GET", token=a))["errcode"] == 0
    sandbox.advance(301)
    assert (await sandbox.api("tags/get", method="GET", token=a))["errcode"] == 40001
    assert (await sandbox.api("tags/get", method="GET", token=b))["errcode"] == 0


async def test_invalidate_control_and_not_whitelisted(sandbox):
    token = (await sandbox.api("stable_token", stable()))["access_token"]
    assert (await sandbox.control("token/invalidate"))["ok"]
    assert (await sandbox.api("tags/get", method="GET", token=token))["errcode"] == 40001
    fresh = (await sandbox.api("stable_token", stable()))["access_token"]
    assert fresh != token
    assert (await sandbox.api("tags/get", method="GET", token=fresh))["errcode"] == 0
    await sandbox.control("whitelist", {"whitelisted": False})
    assert (await sandbox.api("stable_token", stable()))["errcode"] == 40164
    assert (await sandbox.api("token", method="GET", query={
        "grant_type": "client_credential", "appid": APPID, "secret": SECRET}))["errcode"] == 40164
    await sandbox.control("whitelist", {"whitelisted": True})
    assert "access_token" in await sandbox.api("stable_token", stable())
