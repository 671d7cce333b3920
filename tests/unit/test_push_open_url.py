"""Where a tap on a Web Push notification opens the portal (issue 14: the page she comes back for, one call)."""

from __future__ import annotations

from chalicelib.channels.push import open_url


def test_a_message_about_a_request_opens_that_request() -> None:
    assert open_url({"request_id": "01JABCDEF0123456789XYZABCD", "tracking_code": "K7M2P9QX"}) \
        == "/#permohonan/01JABCDEF0123456789XYZABCD"


def test_a_message_about_nothing_else_opens_the_inbox() -> None:
    assert open_url({"complaint_id": "01JABC"}) == "/#kotak-pesan"
    assert open_url({"request_id": "../../x"}) == "/#kotak-pesan"
