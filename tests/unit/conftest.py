"""tests/unit: pure code and fakes only. No moto, no table: any AWS call (DynamoDB included) fails loudly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


class AwsCallInUnitTestError(AssertionError):
    """A unit test reached an AWS API: it belongs in tests/integration (moto) or should use a fake."""


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from botocore.endpoint import Endpoint

    def refuse(self: Endpoint, operation_model: Any, request_dict: Any) -> Any:
        raise AwsCallInUnitTestError(
            f"tests/unit called AWS ({operation_model.service_model.service_name} {operation_model.name} at "
            f"{self.host}); unit tests run without moto or DynamoDB: use a fake, or move the test to "
            "tests/integration")

    monkeypatch.setattr(Endpoint, "make_request", refuse)
    yield
