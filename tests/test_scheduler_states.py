"""The push states: the diagram in scheduler/states.py is the transitions table, and the one writer
refuses a transition the table does not allow."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from scheduler import editing, states
from tests.scheduler_support import bot_env


def test_the_docstring_diagram_is_the_transitions_table():
    drawn = {}
    for line in states.__doc__.splitlines():
        if m := re.fullmatch(r"    (\w+)\s+→(.*)", line):
            drawn[states.State(m[1])] = frozenset(states.State(t.strip()) for t in m[2].split("|") if t.strip())
    assert drawn == states.TRANSITIONS
    assert set(states.TRANSITIONS) == set(states.State)


async def test_the_writer_refuses_a_transition_the_table_does_not_allow(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, webhook=False) as env:
        ids = await env.articles(1, images=0)
        push = await editing.create(env.services, editing.PushSpec(ids, at=env.services.clock.now() + timedelta(days=1)))
        with pytest.raises(states.IllegalTransition):
            await states.write(env.services, push, "submitting")  # planned → submitting: never
        assert (await env.push(push.id)).state == "planned"
        await states.write(env.services, push, "preparing")
        stale = await env.push(push.id)
        stale.state = "planned"  # as another writer read it before the change
        with pytest.raises(states.Stale):
            await states.write(env.services, stale, "cancelled")
