"""Add nik_hash_key to the app secret once (CloudFormation generates only jwt_key); never overwrite it."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from typing import Any


def completed_secret(current: dict[str, Any]) -> dict[str, Any] | None:
    """The secret with nik_hash_key added, or None when nothing is missing.

    Raises ValueError if jwt_key is absent: the secret is not the one CloudFormation made.
    """
    if not current.get("jwt_key"):
        raise ValueError("the secret has no jwt_key: is this the AppSecretArn of the infra stack?")
    if current.get("nik_hash_key"):
        return None
    # 48 random bytes, URL-safe: the same strength the local mode generates (chalicelib/config.py).
    return {**current, "nik_hash_key": secrets.token_urlsafe(48)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("secret_arn", help="AppSecretArn output of the infra stack")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)

    import boto3  # only here, so the pure function above is testable without AWS

    client = boto3.client("secretsmanager", region_name=args.region)
    current = json.loads(client.get_secret_value(SecretId=args.secret_arn)["SecretString"])
    try:
        updated = completed_secret(current)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if updated is None:
        print("nik_hash_key already present; left unchanged")
        return 0
    client.put_secret_value(SecretId=args.secret_arn, SecretString=json.dumps(updated))
    print("nik_hash_key added")
    return 0


if __name__ == "__main__":
    sys.exit(main())
