"""`python -m chalicelib.ops --local ...`: act on the running `make run` instead of an AWS account.

`make run` writes .balai/local-mode.json (owner-only) with the environment its API runs with: the
embedded DynamoDB endpoint, table, data folder and dummy credentials. The CLI takes that environment
before anything reads the settings, so its writes go to the same server (and into its journal).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

ENDPOINT_FILE = "local-mode.json"


class LocalModeNotRunningError(Exception):
    """No running local mode was found where the CLI was told to look."""


def use_running_local_mode(data_dir: Path) -> str:
    """Point this process's settings at the local mode serving `data_dir`; returns its API URL."""
    from chalicelib.config import reset_caches

    path = data_dir / ENDPOINT_FILE
    try:
        described = json.loads(path.read_text())
        env = {str(k): str(v) for k, v in described["env"].items()}
        endpoint = urlsplit(env["BALAI_DYNAMODB_ENDPOINT"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LocalModeNotRunningError(
            f"local mode is not running for {data_dir} (no readable {path}): start it with `make run`") from exc
    try:
        with socket.create_connection((endpoint.hostname or "127.0.0.1", endpoint.port or 80), timeout=2):
            pass
    except OSError as exc:
        raise LocalModeNotRunningError(
            f"local mode's DynamoDB at {endpoint.geturl()} does not answer ({path} is stale): start `make run`"
        ) from exc
    os.environ.update(env)
    reset_caches()
    return str(described.get("api", ""))
