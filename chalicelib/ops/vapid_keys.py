"""Operator command: generate the Web Push VAPID key pair once and keep it in the secrets store.

Cloud: the app secret (BALAI_SECRETS_ARN) gains `vapid_private_key` beside the JWT and NIK-hash keys, so the
one place that reads secrets (config.get_secrets) serves it and a move of the store changes one module.
Local: .balai/vapid.json, owner-only (0600). An existing key is never replaced: every browser subscription
was made with its public key."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.webpush import VAPID_FILE, VapidKeys, generate_vapid_private_key, write_local_vapid
from chalicelib.config import Settings, get_settings


def init_vapid_keys(settings: Settings | None = None, client: Any = None) -> tuple[bool, str, str]:
    """(created, where, public key) — the public key is what the portal subscribes with."""
    settings = settings or get_settings()
    if settings.secrets_arn:
        if client is None:
            import boto3

            client = boto3.client("secretsmanager", region_name=settings.aws_region)
        data = json.loads(client.get_secret_value(SecretId=settings.secrets_arn).get("SecretString") or "{}")
        created = not data.get("vapid_private_key")
        if created:
            data["vapid_private_key"] = generate_vapid_private_key()
            client.put_secret_value(SecretId=settings.secrets_arn, SecretString=json.dumps(data))
        keys = VapidKeys(str(data["vapid_private_key"]), settings.vapid_subject)
        return created, settings.secrets_arn, keys.public_key_b64
    path = settings.data_dir / VAPID_FILE
    created = not path.exists()
    if created:
        write_local_vapid(path, generate_vapid_private_key())
    stored = json.loads(path.read_text())
    return created, str(path), VapidKeys(str(stored["vapid_private_key"]), settings.vapid_subject).public_key_b64
