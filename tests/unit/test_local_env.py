"""Local mode's API environment: the public base URL (links, QR codes) follows BALAI_PORT unless overridden."""

from __future__ import annotations

from pathlib import Path

import pytest

from localmode.run import local_env


def test_links_follow_the_api_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BALAI_PUBLIC_BASE_URL", raising=False)
    env = local_env(Path("/tmp/balai"), "http://127.0.0.1:8301", port=8300)
    assert env["BALAI_PUBLIC_BASE_URL"] == "http://127.0.0.1:8300"


def test_balai_public_base_url_overrides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BALAI_PUBLIC_BASE_URL", "http://192.168.1.20:8300")
    env = local_env(Path("/tmp/balai"), "http://127.0.0.1:8301", port=8300)
    assert env["BALAI_PUBLIC_BASE_URL"] == "http://192.168.1.20:8300"


def test_the_demo_turns_whatsapp_login_on_in_local_mode_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import Settings

    monkeypatch.delenv("BALAI_WHATSAPP_NUMBERS", raising=False)
    env = local_env(Path("/tmp/balai"), "http://127.0.0.1:8301", port=8300)
    assert env["BALAI_WHATSAPP_NUMBERS"] == "6281100000000"
    # every other stage starts with it off
    assert Settings.model_fields["whatsapp_numbers"].default == ()
    monkeypatch.setenv("BALAI_WHATSAPP_NUMBERS", "73.07=6281100007307")
    assert local_env(Path("/tmp/balai"), "http://127.0.0.1:8301")["BALAI_WHATSAPP_NUMBERS"] == "73.07=6281100007307"


def test_sessions_share_one_copy_of_botocore_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """PynamoDB builds its client in a thread's own botocore session (concurrent first calls each build one);
    unshared, each loads DynamoDB's service model and endpoint data anew (the API process grew ~150 MB over its
    first requests, issue 15)."""
    import pynamodb.connection.base as base

    from localmode.run import share_botocore_data

    monkeypatch.setattr(base, "get_session", base.get_session)  # put back after the test
    share_botocore_data()
    first, second = base.get_session(), base.get_session()
    assert first is not second
    assert first.get_component("data_loader") is second.get_component("data_loader")


def test_the_api_process_shares_botocore_data_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import chalice.cli

    from localmode import gateway

    calls: list[str] = []
    monkeypatch.setattr("localmode.run.share_botocore_data", lambda: calls.append("shared"))
    monkeypatch.setattr(chalice.cli, "main", lambda: calls.append("chalice") or 0)
    with pytest.raises(SystemExit):
        gateway.main()
    assert calls == ["shared", "chalice"]
