"""Write the app keys (jwt_key, nik_hash_key) into their SSM SecureString parameter once; never overwrite them.

CloudFormation cannot create SecureString parameters, so this runs once after the infra stack (and is
harmless to run again). A deployment that kept its keys in Secrets Manager (before issue 14) copies them
with --from-secret: nik_hash_key must never change, every citizen lookup key is a hash made with it.

    python infra/init_secrets.py AppSecretParameterArn [--from-secret OLD_APP_SECRET_ARN] [--region R]
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from typing import Any


def completed_secret(current: dict[str, Any]) -> dict[str, Any] | None:
    """The keys with nik_hash_key added, or None when nothing is missing.

    Raises ValueError if jwt_key is absent: the value is not Balai's app keys.
    """
    if not current.get("jwt_key"):
        raise ValueError("the secret has no jwt_key: is this the AppSecretArn of the infra stack?")
    if current.get("nik_hash_key"):
        return None
    # 48 random bytes, URL-safe: the same strength the local mode generates (chalicelib/config.py).
    return {**current, "nik_hash_key": secrets.token_urlsafe(48)}


def new_keys() -> dict[str, str]:
    """Fresh app keys for a new deployment."""
    return {"jwt_key": secrets.token_urlsafe(48), "nik_hash_key": secrets.token_urlsafe(48)}


def parameter_name(arn_or_name: str) -> str:
    """/balai/prod/app from arn:aws:ssm:REGION:ACCOUNT:parameter/balai/prod/app (a name stays as it is)."""
    return "/" + arn_or_name.split(":parameter/", 1)[1] if arn_or_name.startswith("arn:") else arn_or_name


def plan(current: dict[str, Any] | None, old_secret: dict[str, Any] | None) -> dict[str, Any] | None:
    """The value to write, or None to leave the parameter as it is.

    Raises ValueError when the parameter already holds keys that differ from the old secret's: writing
    either would break every token or every citizen lookup made with the other."""
    if current is not None:
        if old_secret is not None and current.get("nik_hash_key") and \
                current.get("nik_hash_key") != old_secret.get("nik_hash_key"):
            raise ValueError("the parameter already holds a different nik_hash_key than the old secret: "
                             "resolve by hand (docs/operations.md, 1.4)")
        return completed_secret(current)
    if old_secret is not None:
        return completed_secret(old_secret) or dict(old_secret)
    return new_keys()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("parameter_arn", help="AppSecretParameterArn output of the infra stack")
    parser.add_argument("--from-secret", help="Secrets Manager ARN of the app secret of an earlier deployment")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)

    import boto3  # only here, so the pure functions above are testable without AWS

    ssm = boto3.client("ssm", region_name=args.region)
    name = parameter_name(args.parameter_arn)
    try:
        current = json.loads(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        current = None
    old = None
    if args.from_secret:
        sm = boto3.client("secretsmanager", region_name=args.region)
        old = json.loads(sm.get_secret_value(SecretId=args.from_secret)["SecretString"])
    try:
        value = plan(current, old)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if value is None:
        print("jwt_key and nik_hash_key already present; left unchanged")
        return 0
    ssm.put_parameter(Name=name, Value=json.dumps(value), Type="SecureString", Tier="Standard",
                      Overwrite=current is not None)
    print(f"app keys written to {name}" + (" (copied from the old secret)" if old else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
