"""Shared fixtures: moto for AWS (started before the app is imported), the Sinjai demo data, logins."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_DATA_DIR = Path(tempfile.mkdtemp(prefix="balai-test-"))
# The environment must be set before chalicelib is imported: PynamoDB's Meta reads it at import.
os.environ.update({
    "BALAI_STAGE": "test",
    "BALAI_TABLE": "balai-test",
    "BALAI_DATA_DIR": str(_DATA_DIR),
    "AWS_DEFAULT_REGION": "ap-southeast-3",
    "AWS_REGION": "ap-southeast-3",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_SERVICE_NAME": "balai",
    "POWERTOOLS_METRICS_NAMESPACE": "Balai",
    "POWERTOOLS_TRACE_DISABLED": "true",
})
for _var in ("BALAI_DYNAMODB_ENDPOINT", "BALAI_SECRETS_ARN"):
    os.environ.pop(_var, None)

from moto import mock_aws  # noqa: E402

_MOCK = mock_aws()
_MOCK.start()

from localmode import moto_patches  # noqa: E402

moto_patches.apply()

import pytest  # noqa: E402
from chalice.test import Client  # noqa: E402

from chalicelib.ops.demo import seed_demo  # noqa: E402
from chalicelib.storage.table import create_table  # noqa: E402



def fresh_table() -> None:
    """An empty table with the demo data. moto copies the whole table on every transaction, so
    each test module starts from the seed instead of carrying every earlier module's items."""
    from chalicelib.storage.models import TTLItem

    if TTLItem.exists():
        TTLItem.delete_table()
    create_table()
    # The demo registers (~500 residents) would double every module's seeding time; register tests add theirs.
    seed_demo(with_residents=False)


fresh_table()

from tests.helpers import *  # noqa: E402,F403  (tests import helpers from here too)
from tests.helpers import citizen_login, complete_profile, register_resident  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _fresh_table_per_module(request: pytest.FixtureRequest) -> None:
    if request.module.__name__ != _FIRST_MODULE[0]:
        fresh_table()


_FIRST_MODULE: list[str] = [""]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if items:
        _FIRST_MODULE[0] = items[0].module.__name__  # already fresh from the import above


@pytest.fixture(scope="session")
def app() -> Any:
    import app as app_module

    return app_module.app


@pytest.fixture()
def client(app: Any) -> Iterator[Client]:
    with Client(app) as c:
        yield c


@pytest.fixture()
def citizen(client: Client) -> dict[str, Any]:
    c = citizen_login(client)
    complete_profile(client, c)
    return c


@pytest.fixture()
def registered_citizen(client: Client) -> dict[str, Any]:
    """A logged-in citizen whose NIK is in Samataring's register: their requests there need no identity check."""
    c = citizen_login(client)
    complete_profile(client, c)
    register_resident(c)
    return c
