"""Write the infra stack's outputs into .chalice/config.json's stage environment, touching nothing else."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Stack output -> environment variable the app reads (chalicelib/config.py).
OUTPUT_TO_ENV: dict[str, str] = {
    "Stage": "BALAI_STAGE",
    "TableName": "BALAI_TABLE",
    # Chalice sets the stage's variables before it imports app.py for deploy/package, so
    # @app.on_dynamodb_record(stream_arn=...) can read the stream ARN from here.
    "TableStreamArn": "BALAI_TABLE_STREAM_ARN",
    "AppSecretArn": "BALAI_SECRETS_ARN",
    "LetterKeysSecretArn": "BALAI_LETTER_KEYS_ARN",
    "BucketName": "BALAI_LETTERS_BUCKET",
    "EmailSender": "BALAI_EMAIL_SENDER",
    "PublicBaseUrl": "BALAI_PUBLIC_BASE_URL",
}
# Fixed for a cloud stage: the real channels, not the local file adapters.
CLOUD_CONSTANTS: dict[str, str] = {"BALAI_SMS_CHANNEL": "sns", "BALAI_EMAIL_CHANNEL": "ses"}


def stack_outputs(describe_stacks: dict[str, Any], stack_name: str | None = None) -> dict[str, str]:
    """The OutputKey -> OutputValue map of one stack from `aws cloudformation describe-stacks` JSON."""
    stacks = describe_stacks.get("Stacks") or []
    if stack_name:
        stacks = [s for s in stacks if s.get("StackName") == stack_name]
    if len(stacks) != 1:
        raise ValueError(f"expected exactly one stack in the input, found {len(stacks)} (use --stack-name)")
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs") or []}


def environment_from_outputs(outputs: dict[str, str]) -> dict[str, str]:
    """The environment variables the outputs give; raises ValueError if a required output is missing."""
    missing = [key for key in OUTPUT_TO_ENV if key not in outputs]
    if missing:
        raise ValueError(f"stack outputs missing: {', '.join(missing)}")
    env = {var: outputs[key] for key, var in OUTPUT_TO_ENV.items()}
    env.update(CLOUD_CONSTANTS)
    return env


def update_config(config: dict[str, Any], stage: str, env: dict[str, str]) -> dict[str, Any]:
    """Merge env into config["stages"][stage]["environment_variables"]; other keys stay as they are."""
    stage_cfg = config.setdefault("stages", {}).setdefault(stage, {})
    variables = stage_cfg.setdefault("environment_variables", {})
    variables.update(env)
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("input", nargs="?", default="-", help="describe-stacks JSON file, or - for stdin")
    parser.add_argument("--stack-name", help="pick this stack when the input holds several")
    parser.add_argument("--stage", default="prod", help="Chalice stage to update (default prod)")
    parser.add_argument("--config", type=Path, default=ROOT / ".chalice" / "config.json")
    parser.add_argument("--dry-run", action="store_true", help="print the variables, do not write")
    args = parser.parse_args(argv)

    raw = sys.stdin.read() if args.input == "-" else Path(args.input).read_text()
    try:
        env = environment_from_outputs(stack_outputs(json.loads(raw), args.stack_name))
    except (ValueError, KeyError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if env["BALAI_STAGE"] != args.stage:
        print(f"error: the stack is stage {env['BALAI_STAGE']!r}, not {args.stage!r}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(env, indent=2, sort_keys=True))
        return 0
    config = json.loads(args.config.read_text()) if args.config.exists() else {"version": "2.0", "app_name": "balai"}
    update_config(config, args.stage, env)
    # Write beside and rename, so an interrupted run never leaves a half-written config.
    tmp = args.config.with_suffix(".json.tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(json.dumps(config, indent=2) + "\n")
    tmp.replace(args.config)
    print(f"updated stages.{args.stage}.environment_variables in {args.config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
