"""The in-process AWS (moto) and the Sinjai demo data, for the tests that need a database.

Imported by the conftests of tests/api, tests/integration and tests/fuzz (`from tests.database import *`):
importing it starts moto, creates the issuing queue and seeds the table, so only those folders pay for it.
tests/unit never imports it (its conftest refuses any AWS call).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from moto import mock_aws

_MOCK = mock_aws()
_MOCK.start()

import boto3  # noqa: E402

# The issuing queue (SQS FIFO) in moto; tests hand its messages to the handler with drain_issuing_queue().
os.environ["BALAI_ISSUE_QUEUE_URL"] = boto3.client("sqs", region_name="ap-southeast-3").create_queue(
    QueueName="balai-test-issuing.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]

from localmode import moto_patches  # noqa: E402

moto_patches.apply()

import pytest  # noqa: E402
from chalice.test import Client  # noqa: E402

from chalicelib.config import reset_caches  # noqa: E402
from chalicelib.ops.demo import seed_demo  # noqa: E402
from chalicelib.storage.table import create_table  # noqa: E402
from tests.helpers import citizen_login, complete_profile, register_resident  # noqa: E402

reset_caches()  # settings read before the queue existed would lack its URL

__all__ = ["fresh_table", "_fresh_table_per_module", "app", "client", "citizen", "registered_citizen"]


def fresh_table() -> None:
    """An empty table with the demo data. moto copies the whole table on every transaction, so
    each test module starts from the seed instead of carrying every earlier module's items."""
    from chalicelib.storage.models import TTLItem

    from chalicelib.storage.letters import forget_known_documents

    if TTLItem.exists():
        TTLItem.delete_table()
    create_table()
    forget_known_documents()
    # The demo registers (~500 residents) would double every module's seeding time; register tests add theirs.
    seed_demo(with_residents=False)


fresh_table()
_SEEDED_UNUSED = [True]  # the seed above is still untouched: the first module that asks uses it as it is


@pytest.fixture(autouse=True, scope="module")
def _fresh_table_per_module() -> None:
    if _SEEDED_UNUSED[0]:
        _SEEDED_UNUSED[0] = False
        return
    fresh_table()


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
