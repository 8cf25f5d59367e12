"""Fuzzing the webhook with valid signatures around hostile messages (tests/webhook_fuzzing.py),
in plain and safe mode, on SQLite and PostgreSQL (whose columns enforce their widths): after each
case the server still answers a normal follower and the message log and follower table grow.
A short run here; `bench/fuzz_webhook.py` runs the long form."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings

from store.migrate import upgrade
from tests.webhook_fuzzing import FuzzRun, hostile_message
from tests.webhook_helpers import webhook_client
from tests.webhook_support import make_services

EXAMPLES = 30  # seconds in CI; the long form is bench/fuzz_webhook.py


@pytest.fixture(params=["plain", "safe"])
async def fuzz(request, make_settings, db_url):
    await upgrade(db_url)
    async with make_services(make_settings, db_url, wechat={"mode": request.param}) as services:
        async with webhook_client(services) as hook:
            yield FuzzRun(hook, services, request.param)


@hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=hostile_message())
async def test_hostile_messages_leave_the_webhook_answering_and_logging(fuzz, body, caplog):
    caplog.set_level(logging.WARNING)
    await fuzz.case(body)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors  # no unexpected exception, no row dropped
