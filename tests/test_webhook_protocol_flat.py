"""wechat/protocol.py's fast read of flat messages (`flat_fields`, the C parser) against xmltodict and
wechatpy.parse_message, which it stands in for: on hostile bodies as on WeChat's own, it gives the same
fields and the same message, or nothing (and xmltodict reads the body as before)."""

from __future__ import annotations

import xmltodict
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from wechatpy import parse_message

from tests.webhook_fuzzing import hostile_message
from tests.webhook_helpers import event_xml, publish_job_finish_xml, text_xml
from wechat import protocol
from wechat.protocol import Rejected, flat_fields


def old_parse(xml: str):
    """protocol.parse as it was: wechatpy's parse_message on xmltodict."""
    saved = protocol.flat_fields
    protocol.flat_fields = lambda _xml: None
    try:
        return protocol.parse(xml)
    finally:
        protocol.flat_fields = saved


def same_outcome(xml: str | bytes) -> None:
    try:
        want = xmltodict.parse(xml)["xml"]
    except Exception:
        want = None
    got = flat_fields(xml)
    assert got is None or got == want, (xml, got, want)
    outcomes = []
    for parse in (protocol.parse, old_parse):
        try:
            m = parse(xml)
            outcomes.append((type(m), protocol.fields(m), m.source, m.target, m.type))
        except Rejected as e:
            outcomes.append(("rejected", e.status))
    assert outcomes[0] == outcomes[1], xml


@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=hostile_message())
def test_hostile_bodies_read_alike(body):
    same_outcome(body)
    try:
        same_outcome(body.decode("utf-8"))
    except UnicodeDecodeError:
        pass


def test_what_wechat_sends_reads_alike_and_takes_the_fast_path():
    for xml in (text_xml("o1", "你好 ]]> &amp;"), text_xml("o1", "\u3000"), event_xml("o1", "subscribe", key="qrscene_12"),
                event_xml("o1", "subscribe", key="scanbarcode|x"), event_xml("o1", "CLICK", key="menu")):
        assert flat_fields(xml) is not None
        same_outcome(xml)
        assert type(protocol.parse(xml)) is type(parse_message(xml))


def test_anything_but_a_flat_message_is_left_to_xmltodict():
    for xml in (publish_job_finish_xml("1", 0, urls=["https://example.org/a"]),
                '<!DOCTYPE x [<!ENTITY a "b">]><xml><Content>&a;</Content></xml>',
                "<xml><!-- c --><Content>a</Content></xml>", '<?xml version="1.0"?><xml><A>1</A></xml>',
                '<xml><A lang="zh">1</A></xml>', "<xml><A>1</A><A>2</A></xml>", "<xml>t<A>1</A></xml>",
                '<xml xmlns="urn:x"><A>1</A></xml>', "<x:xml><A>1</A></x:xml>", "<xml><A><B>1</B></A></xml>"):
        assert flat_fields(xml) is None, xml
        same_outcome(xml)
