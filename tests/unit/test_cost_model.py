"""The cost model's arithmetic: fixed costs at zero traffic, linear SMS, bigger district costs more."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("balai_bench_cost", ROOT / "bench" / "cost.py")
assert _spec and _spec.loader
cost = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = cost  # dataclasses resolve annotations through sys.modules
_spec.loader.exec_module(cost)


@pytest.fixture(scope="module")
def prices() -> dict[str, Any]:
    return cost.load_prices(ROOT / "bench" / "prices.json")


def _zero() -> Any:
    return cost.Profile(name="empty", villages=0, residents=0, letters=0, complaints=0, sms=0, emails=0,
                        verifications=0, dashboard_views=0)


def test_zero_traffic_costs_only_fixed_items(prices: dict[str, Any]) -> None:
    est = cost.estimate(_zero(), prices, {})
    usage_lines = {l.service: l.usd for l in est.lines if not l.fixed}
    for service in ("API Gateway REST", "SNS SMS (Indonesia)", "SES e-mail", "S3", "Lambda api",
                    "DynamoDB storage", "Data transfer out"):
        assert usage_lines[service] == 0.0, service
    fixed = sum(l.usd for l in est.lines if l.fixed)
    # What remains is the scheduled handler's polling and its traces, logs and secret refreshes: cents.
    assert 0 < fixed <= est.total_usd < fixed + 1.0
    assert est.total_usd < 15.0


def test_doubling_sms_doubles_the_sms_cost(prices: dict[str, Any]) -> None:
    base = cost.sinjai()
    one = cost.estimate(base, prices, {}).by_service()["SNS SMS (Indonesia)"]
    two = cost.estimate(dataclasses.replace(base, sms=base.sms * 2), prices, {}).by_service()["SNS SMS (Indonesia)"]
    assert one == pytest.approx(base.sms * prices["prices"]["sns_sms_indonesia_per_message"]["usd"])
    assert two == pytest.approx(2 * one)


def test_lines_add_up_to_the_total(prices: dict[str, Any]) -> None:
    est = cost.estimate(cost.sinjai(), prices, {})
    assert sum(est.by_service().values()) == pytest.approx(est.total_usd)


def test_ten_times_the_district_costs_more(prices: dict[str, Any]) -> None:
    small = cost.estimate(cost.sinjai(), prices, {}).total_usd
    large = cost.estimate(cost.tenfold(), prices, {}).total_usd
    assert large > small
    # Fixed items are not multiplied, so 10x the traffic costs a little under 10x.
    assert large < 10 * small


def test_free_tier_only_lowers_the_bill(prices: dict[str, Any]) -> None:
    gross = cost.estimate(cost.sinjai(), prices, {}).total_usd
    net = cost.estimate(cost.sinjai(), prices, {}, free_tier=True).total_usd
    assert 0 < net < gross


def test_request_unit_rules() -> None:
    # 4 KB per read unit, half for eventually consistent; 1 KB per write unit, double in a transaction.
    assert cost.op_units(("get", 2.0)) == (0.5, 0.0)
    assert cost.op_units(("cget", 5.0)) == (2.0, 0.0)
    assert cost.op_units(("tget", 1.0)) == (2.0, 0.0)
    assert cost.op_units(("write", 0.5, 0)) == (0.0, 1.0)
    assert cost.op_units(("twrite", 2.0, 4)) == (0.0, 4.0 + 8.0)
    assert cost.op_units(("twrite", 0.5, 1, 1.5)) == (0.0, 4.5)
    submit_rru, submit_wru = cost.ops_units(cost.ENDPOINT_OPS["submit"])
    assert submit_rru == 6.0 and submit_wru > 0


def test_measurements_replace_defaults(prices: dict[str, Any], tmp_path: Path) -> None:
    default = cost.estimate(cost.sinjai(), prices, {})
    assert default.sources["api.mean_ms"] == "default"
    meas = {"functions": {"api": {"memory_mb": 1024, "mean_ms": 40.0, "init_ms": 800.0}}}
    measured = cost.estimate(cost.sinjai(), prices, meas)
    assert measured.sources["api.memory_mb"] == "measured"
    # Twice the memory at the same durations: twice the GB-s.
    assert measured.usage["lambda_gb_s_api"] == pytest.approx(2 * default.usage["lambda_gb_s_api"])


def test_cli_json_output() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "cost.py"), "--profile", "sinjai", "--json"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    assert data[0]["profile"]["letters"] == 10_000
    assert math.isclose(data[0]["total_idr"], data[0]["total_usd"] * data[0]["usd_to_idr"], rel_tol=1e-3)
