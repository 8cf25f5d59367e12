"""Binding a follower to a member unit: correct, wrong, expired and reused codes, the per-follower
attempt limit, unbinding (by the follower, an editor, or by unsubscribing) and the binding log."""

from __future__ import annotations

from sqlalchemy import select

from store.members import binding
from store.members.demo import demo_rows, load_demo
from store.models.members import BindCode

UNIT = next(r for r in demo_rows() if r.name == "浙江省婚姻家庭协会")
OTHER = next(r for r in demo_rows() if r.name == "浙江省银行业协会")


async def _code(env, unit=UNIT) -> str:
    code, member, _ = await binding.issue_code(
        env.db, unit.credit_code, env.clock.now(), env.services.settings.members.bind_code_ttl_minutes
    )
    assert member.name == unit.name
    return code


async def test_correct_code_binds_once_and_is_stored_hashed(members_env):
    await load_demo(members_env.services)
    code = await _code(members_env)
    async with members_env.db() as session:
        (stored,) = await session.scalars(select(BindCode))
    assert stored.code_hash == binding.hash_code(code) and code not in stored.code_hash

    outcome = await binding.bind(members_env.services, "o_alice", f" {code.lower()} ")
    assert (outcome.status, outcome.member_name) == ("bound", UNIT.name)
    # The same code again, by anyone: used.
    assert (await binding.bind(members_env.services, "o_alice", code)).status == "used"
    assert (await binding.bind(members_env.services, "o_bob", code)).status == "used"
    # A second code for a follower already bound: nothing new.
    assert (await binding.bind(members_env.services, "o_alice", await _code(members_env))).status == "already"

    member, bindings, events = await binding.bindings_of(members_env.db, UNIT.credit_code)
    assert [(b.openid, b.revoked_at) for b in bindings] == [("o_alice", None)]
    assert [(e.openid, e.kind) for e in events] == [("o_alice", "bind")]


async def test_wrong_and_expired_codes(members_env):
    await load_demo(members_env.services)
    code = await _code(members_env)
    wrong = await binding.bind(members_env.services, "o_alice", "ABCDEFGH")
    assert (wrong.status, wrong.attempts_left) == ("wrong", 4)

    ttl = members_env.services.settings.members.bind_code_ttl_minutes * 60
    members_env.clock.advance(ttl)
    assert (await binding.bind(members_env.services, "o_alice", code)).status == "expired"
    _, bindings, _ = await binding.bindings_of(members_env.db, UNIT.credit_code)
    assert bindings == []


async def test_attempts_are_limited_per_follower_per_hour(members_env):
    await load_demo(members_env.services)
    limit = members_env.services.settings.members.bind_attempts_per_hour
    code = await _code(members_env)
    for n in range(limit):
        assert (await binding.bind(members_env.services, "o_mallory", f"WRONG{n:03d}")).status == "wrong"
    # Over the limit even the right code is refused, so guessing gets nowhere.
    assert (await binding.bind(members_env.services, "o_mallory", code)).status == "limited"
    # Another follower is not affected.
    assert (await binding.bind(members_env.services, "o_alice", "WRONG999")).status == "wrong"
    members_env.clock.advance(3600)
    assert (await binding.bind(members_env.services, "o_mallory", code)).status == "bound"


async def test_unbind_revoke_and_unsubscribe_are_logged(members_env):
    await load_demo(members_env.services)
    services = members_env.services
    for openid in ("o_alice", "o_bob"):
        assert (await binding.bind(services, openid, await _code(members_env))).status == "bound"
    assert (await binding.bind(services, "o_alice", await _code(members_env, OTHER))).status == "bound"

    now = members_env.clock.now()
    assert await binding.unbind(services.db, "o_alice", now) == [UNIT.name, OTHER.name]
    assert await binding.unbind(services.db, "o_alice", now) == []

    member, _, _ = await binding.bindings_of(services.db, UNIT.credit_code)
    assert await binding.unbind(services.db, "o_bob", now, member.id, kind="revoke") == [UNIT.name]
    assert (await binding.bind(services, "o_bob", await _code(members_env))).status == "bound"

    assert await binding.on_unsubscribe(services.db, "o_bob", now) == [UNIT.name]  # the webhook calls this

    _, bindings, events = await binding.bindings_of(services.db, UNIT.credit_code)
    assert all(b.revoked_at is not None for b in bindings)
    assert [(e.openid, e.kind) for e in events] == [
        ("o_alice", "bind"),
        ("o_bob", "bind"),
        ("o_alice", "unbind"),
        ("o_bob", "revoke"),
        ("o_bob", "bind"),
        ("o_bob", "unsubscribe"),
    ]
