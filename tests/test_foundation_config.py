"""Settings: missing and invalid keys fail at start with their name; secrets from the environment."""

import pytest

from core.config import ConfigError, load_settings, parse_settings
from tests.conftest import base_config


def test_committed_config_is_valid():
    s = load_settings("config.toml", environ={})
    assert s.wechat.api_base_url.startswith("http://127.0.0.1")
    assert s.database_url.startswith("sqlite+aiosqlite:////")


def test_missing_key_is_named(tmp_path):
    cfg = base_config(tmp_path)
    del cfg["wechat"]["appid"]
    with pytest.raises(ConfigError, match=r"\[wechat\] appid：缺少此项"):
        parse_settings(cfg, environ={})


def test_invalid_value_says_what_is_expected(tmp_path):
    cfg = base_config(tmp_path, wechat={"encoding_aes_key": "short"}, server={"port": "eighty"})
    with pytest.raises(ConfigError) as e:
        parse_settings(cfg, environ={})
    assert "[wechat] encoding_aes_key：须为空（明文模式）或 43 位字母和数字（密钥，不显示）" in str(e.value)
    assert "short" not in str(e.value)  # a secret is never echoed
    assert "[server] port：须为整数（现为 'eighty'）" in str(e.value)


def test_unknown_key_is_refused(tmp_path):
    cfg = base_config(tmp_path, server={"prot": 1})
    with pytest.raises(ConfigError, match=r"\[server\] prot：未知的配置项"):
        parse_settings(cfg, environ={})


def test_secrets_from_environment_override_the_file(tmp_path):
    cfg = base_config(tmp_path)
    del cfg["wechat"]["secret"]
    s = parse_settings(cfg, environ={"WECHAT_SECRET": "from-env", "WECHAT_TOKEN": "envtoken"})
    assert s.wechat.secret == "from-env"
    assert s.wechat.token == "envtoken"


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[wechat\n")
    with pytest.raises(ConfigError, match="不是有效的 TOML"):
        load_settings(bad)


def test_member_roles_and_display_name(tmp_path):
    base = {"wechat": {"appid": "wx1", "secret": "s", "token": "tok", "account_id": "gh_1"}}
    settings = parse_settings(base, environ={})
    assert settings.members.roles[0] == "会长单位" and settings.wechat.display_name == ""
    custom = parse_settings({**base, "members": {"roles": ["会长单位", "常务理事单位"]}}, environ={})
    assert custom.members.roles == ["会长单位", "常务理事单位"]
    for bad in ([], ["会长单位", "会长单位"], [""], ["字" * 21]):
        with pytest.raises(ConfigError, match=r"\[members\] roles"):
            parse_settings({**base, "members": {"roles": bad}}, environ={})


def test_wechat_mode_defaults_to_safe_with_a_key_and_needs_one(tmp_path):
    cfg = base_config(tmp_path)
    del cfg["wechat"]["mode"]
    assert parse_settings(cfg, environ={}).wechat.mode == "safe"  # a key set: refuse plaintext
    cfg["wechat"]["encoding_aes_key"] = ""
    assert parse_settings(cfg, environ={}).wechat.mode == "plain"
    for mode in ("safe", "compatible"):
        cfg["wechat"]["mode"] = mode
        with pytest.raises(ConfigError, match=r"\[wechat\] mode：兼容模式和安全模式需要 encoding_aes_key") as e:
            parse_settings(cfg, environ={})
        assert "test-secret" not in str(e.value)


def test_body_timeout_must_fit_in_the_reply_budget(tmp_path):
    cfg = base_config(tmp_path, server={"reply_budget_seconds": 2, "body_timeout_seconds": 2})
    with pytest.raises(ConfigError, match=r"\[server\] body_timeout_seconds：须短于 reply_budget_seconds"):
        parse_settings(cfg, environ={})
