"""tests/unit runs without moto or a table, and a unit test that reaches AWS fails loudly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_unit_conftests_start_no_moto_and_seed_nothing() -> None:
    # Given a fresh interpreter, when it loads what `pytest tests/unit` loads before the tests ...
    code = ("import tests.conftest, tests.unit.conftest, sys; "
            "print('moto' in sys.modules, 'tests.database' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    # ... then neither moto nor the seeded database came with it
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_a_dynamodb_call_in_a_unit_test_fails_loudly() -> None:
    from chalicelib.storage.models import TTLItem
    from tests.unit.conftest import AwsCallInUnitTestError

    # Given the unit-test guard, when code reaches DynamoDB, then the test fails with the reason
    with pytest.raises(AwsCallInUnitTestError, match="dynamodb DescribeTable.*tests/integration"):
        TTLItem.exists()


def test_any_other_aws_call_fails_loudly_too() -> None:
    import boto3

    from tests.unit.conftest import AwsCallInUnitTestError

    with pytest.raises(AwsCallInUnitTestError, match="s3 ListBuckets"):
        boto3.client("s3", region_name="ap-southeast-3").list_buckets()
