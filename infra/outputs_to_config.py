"""Write the infra stack's outputs into the stage environment of .chalice/config.json and its IAM policy file."""

from __future__ import annotations

import argparse
import json
import re
import string
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
    # SSM SecureString parameters (ARNs) the ops CLI writes: the app keys and the letter keyring.
    "AppSecretParameterArn": "BALAI_SECRETS_ARN",
    "LetterKeysParameterArn": "BALAI_LETTER_KEYS_ARN",
    "BucketName": "BALAI_LETTERS_BUCKET",
    "EmailSender": "BALAI_EMAIL_SENDER",
    "PublicBaseUrl": "BALAI_PUBLIC_BASE_URL",
    # The bucket's attachment retention rule, so the API says 410 attachment_expired on the same day.
    "AttachmentRetentionDays": "BALAI_ATTACHMENT_RETENTION_DAYS",
    "IssueQueueUrl": "BALAI_ISSUE_QUEUE_URL",
    # Read by @app.on_sqs_message(queue_arn=...) at deploy/package time, like the stream ARN above.
    "IssueQueueArn": "BALAI_ISSUE_QUEUE_ARN",
    # The web front end's address: the API's only CORS origin, and where QR codes and messages send people.
    "WebBaseUrl": "BALAI_WEB_BASE_URL",
}
# Fixed for a cloud stage: the real channels, not the local file adapters.
CLOUD_CONSTANTS: dict[str, str] = {"BALAI_SMS_CHANNEL": "sns", "BALAI_EMAIL_CHANNEL": "ses",
                                   "BALAI_PUSH_CHANNEL": "webpush"}


# Stack outputs the IAM policy template names (besides Stage); Partition, Region and AccountId come from
# TableArn, AppName from the Chalice config. Chalice reads the policy file as plain JSON at deploy time,
# so the ARNs are written into it here rather than resolved by CloudFormation.
POLICY_OUTPUTS: tuple[str, ...] = ("TableArn", "BucketArn", "AppSecretParameterArn", "LetterKeysParameterArn",
                                   "EmailIdentityArn", "IssueQueueArn")
_ARN = re.compile(r"^arn:(?P<partition>[^:]+):dynamodb:(?P<region>[^:]+):(?P<account>\d{12}):table/.+$")


def policy_variables(outputs: dict[str, str], app_name: str) -> dict[str, str]:
    """The ${...} values of the policy template; raises ValueError if an output is missing or odd."""
    missing = [key for key in ("Stage", *POLICY_OUTPUTS) if key not in outputs]
    if missing:
        raise ValueError(f"stack outputs missing for the IAM policy: {', '.join(missing)}")
    match = _ARN.match(outputs["TableArn"])
    if not match:
        raise ValueError(f"TableArn is not a DynamoDB table ARN: {outputs['TableArn']!r}")
    return {
        "Partition": match["partition"], "Region": match["region"], "AccountId": match["account"],
        "AppName": app_name, "Stage": outputs["Stage"], **{key: outputs[key] for key in POLICY_OUTPUTS},
    }


def render_policy(template: Any, variables: dict[str, str]) -> Any:
    """The policy template with every ${Name} replaced; an unknown name raises KeyError (no half-rendering)."""
    if isinstance(template, str):
        return string.Template(template).substitute(variables)
    if isinstance(template, list):
        return [render_policy(item, variables) for item in template]
    if isinstance(template, dict):
        return {key: render_policy(value, variables) for key, value in template.items()}
    return template


def policy_paths(config_path: Path, stage: str) -> tuple[Path, Path]:
    """(template, rendered file) beside the config: policy-{stage}.template.json -> policy-{stage}.json."""
    return config_path.parent / f"policy-{stage}.template.json", config_path.parent / f"policy-{stage}.json"


def _write_atomically(path: Path, text: str) -> None:
    # Write beside and rename, so an interrupted run never leaves a half-written file.
    tmp = path.with_name(path.name + ".tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(text)
    tmp.replace(path)


def example_outputs(stage: str = "prod", region: str = "ap-southeast-3",
                    account: str = "123456789012") -> dict[str, str]:
    """Outputs shaped like the real stack's, for the committed example policy (`chalice package` offline)."""
    arn = f"arn:aws:{{}}:{region}:{account}:{{}}"
    return {
        "Stage": stage,
        "TableArn": arn.format("dynamodb", f"table/balai-{stage}"),
        "BucketArn": f"arn:aws:s3:::balai-{stage}-letters-{account}-{region}",
        "AppSecretParameterArn": arn.format("ssm", f"parameter/balai/{stage}/app"),
        "LetterKeysParameterArn": arn.format("ssm", f"parameter/balai/{stage}/letter-keys"),
        "EmailIdentityArn": arn.format("ses", "identity/example.go.id"),
        "IssueQueueArn": arn.format("sqs", f"balai-{stage}-issuing.fifo"),
    }


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
    parser.add_argument("--example", action="store_true",
                        help="only render the policy file with example ARNs (account 123456789012), no stack needed")
    args = parser.parse_args(argv)

    if args.example:
        config = json.loads(args.config.read_text())
        template_path, policy_path = policy_paths(args.config, args.stage)
        variables = policy_variables(example_outputs(args.stage), str(config.get("app_name", "balai")))
        _write_atomically(policy_path, json.dumps(render_policy(json.loads(template_path.read_text()), variables),
                                                  indent=2) + "\n")
        print(f"rendered {policy_path.name} with example ARNs: run again with the stack's outputs before deploying")
        return 0

    raw = sys.stdin.read() if args.input == "-" else Path(args.input).read_text()
    config = json.loads(args.config.read_text()) if args.config.exists() else {"version": "2.0", "app_name": "balai"}
    template_path, policy_path = policy_paths(args.config, args.stage)
    try:
        outputs = stack_outputs(json.loads(raw), args.stack_name)
        env = environment_from_outputs(outputs)
        policy = None
        if template_path.exists():
            variables = policy_variables(outputs, str(config.get("app_name", "balai")))
            policy = render_policy(json.loads(template_path.read_text()), variables)
    except (ValueError, KeyError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if env["BALAI_STAGE"] != args.stage:
        print(f"error: the stack is stage {env['BALAI_STAGE']!r}, not {args.stage!r}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(env, indent=2, sort_keys=True))
        if policy is not None:
            print(json.dumps(policy, indent=2))
        return 0
    update_config(config, args.stage, env)
    _write_atomically(args.config, json.dumps(config, indent=2) + "\n")
    print(f"updated stages.{args.stage}.environment_variables in {args.config}")
    if policy is not None:
        _write_atomically(policy_path, json.dumps(policy, indent=2) + "\n")
        print(f"rendered {policy_path.name} from {template_path.name}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
