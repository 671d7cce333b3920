"""The test environment (set before chalicelib is imported) and the API helpers; no AWS, no database here.

moto and the seeded demo table live in tests/database.py, imported by the conftests of the folders that
need them (tests/api, tests/integration, tests/fuzz); tests/unit runs without them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
    # Every test client calls from 127.0.0.1: per-client OTP limits are raised for the suite and
    # tested at their real values in tests/api/test_abuse_limits.py.
    "BALAI_OTP_PER_CLIENT_HOUR": "100000",
    "BALAI_OTP_PER_CLIENT_DAY": "100000",
})
for _var in ("BALAI_DYNAMODB_ENDPOINT", "BALAI_SECRETS_ARN"):
    os.environ.pop(_var, None)

from tests.helpers import *  # noqa: E402,F403  (tests import helpers from here too)
