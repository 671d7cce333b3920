"""The scheduled jobs are declared once; the cloud (app.py) and local mode both read that declaration."""

from __future__ import annotations

import importlib

import pytest

from chalicelib.workers.schedules import SCHEDULES, Schedule


def test_app_registers_exactly_the_declared_schedules() -> None:
    # Given the app as Lambda loads it
    import app as app_module

    # When its scheduled event sources are listed
    registered = {es.name: es.schedule_expression for es in app_module.app.event_sources
                  if hasattr(es, "schedule_expression")}
    # Then they are the declared ones, with the declared expressions
    assert registered == {s.name: s.expression for s in SCHEDULES.values()}
    assert registered == {"outbox_retry": "rate(1 minute)", "sla_escalation": "rate(15 minutes)",
                          "daily_digest": "cron(0 * * * ? *)"}


def test_local_mode_runs_the_same_jobs_on_the_same_periods() -> None:
    from localmode.streams import cloud_jobs

    jobs = {j.name: j for j in cloud_jobs()}
    assert {name: j.every_seconds for name, j in jobs.items()} == {"outbox_retry": 60, "sla_escalation": 900,
                                                                   "daily_digest": 3600}
    for name, job in jobs.items():
        assert job.run == SCHEDULES[name].run


def test_every_target_is_a_function_of_the_workers() -> None:
    for schedule in SCHEDULES.values():
        module, function = schedule.target.split(":")
        assert module.startswith("chalicelib.workers.")
        assert callable(getattr(importlib.import_module(module), function))


def test_running_a_job_calls_its_target(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.workers import outbox

    calls: list[str] = []
    monkeypatch.setattr(outbox, "retry_due", lambda: calls.append("retry"))
    SCHEDULES["outbox_retry"].run()
    assert calls == ["retry"]


def test_a_schedule_that_cannot_be_expressed_is_refused() -> None:
    with pytest.raises(ValueError):
        Schedule("too_fast", 0, "chalicelib.workers.outbox:retry_due")
    with pytest.raises(ValueError):
        Schedule("odd", 15, "chalicelib.workers.outbox:retry_due", at_minute=5)
