"""infra/balai.yaml declares the table, bucket and secrets exactly as the code expects them."""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "balai.yaml"

sys.path.insert(0, str(ROOT / "infra"))
outputs_to_config = importlib.import_module("outputs_to_config")
init_secrets = importlib.import_module("init_secrets")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    # cfn-lint's own decoder understands the short-form intrinsics (!Ref, !Sub, !GetAtt ...).
    cfn_yaml = pytest.importorskip("cfnlint.decode.cfn_yaml")
    return dict(cfn_yaml.load(str(TEMPLATE)))


@pytest.fixture(scope="module")
def table_props(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"]["Table"]["Properties"])


@pytest.fixture(scope="module")
def code_layout() -> dict[str, Any]:
    """The layout as the PynamoDB models declare it (chalicelib/storage/table.py)."""
    os.environ.setdefault("BALAI_STAGE", "test")
    table = importlib.import_module("chalicelib.storage.table")
    models = importlib.import_module("chalicelib.storage.models")
    base = table.BaseItem
    indexes = {}
    for index in base._indexes.values():
        attrs = index.Meta.attributes.values()
        indexes[index.Meta.index_name] = {
            "hash": next(a.attr_name for a in attrs if a.is_hash_key),
            "range": next(a.attr_name for a in attrs if a.is_range_key),
            "projection": index.Meta.projection.projection_type,
        }
    return {
        "hash": base._hash_keyname,
        "range": base._range_keyname,
        "indexes": indexes,
        "ttl": models.TTLItem._ttl_attribute().attr_name,
        "stream": base.Meta.stream_view_type,
        "billing": base.Meta.billing_mode,
    }


def _keys(schema: list[dict[str, str]]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in schema}


def test_table_keys_match_the_models(table_props: dict[str, Any], code_layout: dict[str, Any]) -> None:
    assert _keys(table_props["KeySchema"]) == {"HASH": code_layout["hash"], "RANGE": code_layout["range"]}
    assert (code_layout["hash"], code_layout["range"]) == ("PK", "SK")


def test_four_gsis_match_the_models(table_props: dict[str, Any], code_layout: dict[str, Any]) -> None:
    declared = {
        g["IndexName"]: {**{"hash": _keys(g["KeySchema"])["HASH"], "range": _keys(g["KeySchema"])["RANGE"]},
                         "projection": g["Projection"]["ProjectionType"]}
        for g in table_props["GlobalSecondaryIndexes"]
    }
    assert declared == code_layout["indexes"]
    assert sorted(declared) == ["GSI1", "GSI2", "GSI3", "GSI4"]
    # Every index holds keys only (items change on every transition, their keys seldom: a KEYS_ONLY index is
    # written only when its key changes, and its readers fetch the items by key)
    for n in (1, 2, 3, 4):
        assert declared[f"GSI{n}"] == {"hash": f"GSI{n}PK", "range": f"GSI{n}SK", "projection": "KEYS_ONLY"}


def test_every_key_attribute_is_a_string(table_props: dict[str, Any]) -> None:
    types = {a["AttributeName"]: a["AttributeType"] for a in table_props["AttributeDefinitions"]}
    expected = {"PK", "SK"} | {f"GSI{n}{part}" for n in range(1, 5) for part in ("PK", "SK")}
    assert types == {name: "S" for name in expected}


def test_ttl_stream_billing_and_safety(table_props: dict[str, Any], code_layout: dict[str, Any]) -> None:
    assert table_props["TimeToLiveSpecification"] == {"AttributeName": code_layout["ttl"], "Enabled": True}
    assert code_layout["ttl"] == "expires_at"
    assert table_props["StreamSpecification"]["StreamViewType"] == code_layout["stream"] == "NEW_AND_OLD_IMAGES"
    assert table_props["BillingMode"] == code_layout["billing"] == "PAY_PER_REQUEST"
    assert table_props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table_props["DeletionProtectionEnabled"] is True
    assert table_props["SSESpecification"]["SSEEnabled"] is True


def test_data_survives_stack_deletion(template: dict[str, Any]) -> None:
    for name in ("Table", "LettersBucket"):
        resource = template["Resources"][name]
        assert resource["DeletionPolicy"] == "Retain", name
        assert resource["UpdateReplacePolicy"] == "Retain", name


def test_bucket_is_private_encrypted_versioned(template: dict[str, Any]) -> None:
    props = template["Resources"]["LettersBucket"]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    # attachment uploads of the old layout (staging prefix, copied at submission): emptied after their day
    assert rules["expire-temporary-uploads"]["Prefix"] == "uploads/"
    assert rules["expire-temporary-uploads"]["ExpirationInDays"] == 1
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90


def test_issued_pdfs_are_a_cache_and_what_renders_them_again_is_kept(template: dict[str, Any]) -> None:
    rules = template["Resources"]["LettersBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    pdfs = next(r for r in rules if r["Id"] == "expire-cached-letter-pdfs")
    # A letter's PDF expires (a download renders it again: tests/integration/test_letters_issuing.py), old versions
    # the next day (the shorter of two overlapping expirations wins)
    assert pdfs["Prefix"] == "letters/" and pdfs["Status"] == "Enabled"
    assert pdfs["ExpirationInDays"] == {"Ref": "LetterPdfCacheDays"}
    assert template["Parameters"]["LetterPdfCacheDays"]["Default"] == 30
    assert pdfs["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    # The village's lambang, which a render reads, is under logos/: no rule expires a current file there
    expiring = [r for r in rules if "ExpirationInDays" in r]
    assert all(r.get("Prefix") in ("uploads/", "attachments/", "letters/") for r in expiring)
    assert all(not "logos/".startswith(str(r.get("Prefix"))) for r in expiring)


def test_bucket_policy_refuses_plain_http(template: dict[str, Any]) -> None:
    statements = template["Resources"]["LettersBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_outputs_cover_what_the_config_needs(template: dict[str, Any]) -> None:
    outputs = set(template["Outputs"])
    required = {"TableName", "TableArn", "TableStreamArn", "BucketName", "BucketArn", "AppSecretParameterArn",
                "LetterKeysParameterArn", "AlarmTopicArn", "EmailIdentityArn"}
    assert required <= outputs
    assert set(outputs_to_config.POLICY_OUTPUTS) <= outputs
    assert set(outputs_to_config.OUTPUT_TO_ENV) <= outputs


def test_notification_alarm_watches_the_powertools_metric(template: dict[str, Any]) -> None:
    props = template["Resources"]["NotificationFailedAlarm"]["Properties"]
    assert (props["Namespace"], props["MetricName"]) == ("Balai", "NotificationFailed")


def test_failed_staff_logins_alarm_watches_the_metric_the_login_emits(template: dict[str, Any]) -> None:
    # Given the metric name the login service emits on every refused password
    import inspect

    from chalicelib.services import auth

    assert 'count_metric("StaffLoginFailed")' in inspect.getsource(auth.staff_login)
    # Then an alarm watches that metric, with the service dimension Powertools adds
    props = template["Resources"]["StaffLoginFailedAlarm"]["Properties"]
    assert (props["Namespace"], props["MetricName"]) == ("Balai", "StaffLoginFailed")
    assert props["Dimensions"][0]["Name"] == "service" and props["AlarmActions"]


# ------------------------------------------------------------------------- outputs_to_config.py

def _describe(outputs: dict[str, str]) -> dict[str, Any]:
    return {"Stacks": [{"StackName": "balai-prod",
                        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]}


STACK_OUTPUTS = {
    "Stage": "prod", "TableName": "balai-prod", "AppSecretParameterArn": "arn:aws:ssm:x:1:parameter/balai/prod/app",
    "LetterKeysParameterArn": "arn:aws:ssm:x:1:parameter/balai/prod/keys", "BucketName": "balai-prod-letters-1-x",
    "EmailSender": "noreply@sinjaikab.go.id", "PublicBaseUrl": "https://balai.sinjaikab.go.id",
    "TableArn": "arn:aws:dynamodb:x:1:table/balai-prod",
    "TableStreamArn": "arn:aws:dynamodb:x:1:table/balai-prod/stream/2026-11-01T00:00:00.000", "AlarmTopicArn": "arn:aws:sns:x:1:balai-prod-alarms",
    "IssueQueueUrl": "https://sqs.x.amazonaws.com/1/balai-prod-issuing.fifo",
    "IssueQueueArn": "arn:aws:sqs:x:1:balai-prod-issuing.fifo",
    "WebBaseUrl": "https://layanan.sinjaikab.go.id", "WebBucketName": "balai-prod-web-1-x",
    "WebDistributionId": "E2EXAMPLE", "AttachmentRetentionDays": "30",
}


def test_outputs_to_config_touches_only_prod_environment(tmp_path: Path) -> None:
    # Given a config with a local stage, prod settings and an unrelated prod variable
    config = {
        "version": "2.0", "app_name": "balai",
        "stages": {
            "local": {"environment_variables": {"BALAI_STAGE": "local"}},
            "prod": {"lambda_memory_size": 512, "environment_variables": {"POWERTOOLS_SERVICE_NAME": "balai"}},
        },
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    source = tmp_path / "stack.json"
    source.write_text(json.dumps(_describe(STACK_OUTPUTS)))
    # When the helper runs
    assert outputs_to_config.main([str(source), "--config", str(path)]) == 0
    # Then only stages.prod.environment_variables changed, and they hold the outputs
    after = json.loads(path.read_text())
    env = after["stages"]["prod"].pop("environment_variables")
    config["stages"]["prod"].pop("environment_variables")
    assert after == config
    assert env["POWERTOOLS_SERVICE_NAME"] == "balai"
    assert env["BALAI_TABLE"] == "balai-prod"
    assert env["BALAI_SECRETS_ARN"].endswith("/app")
    assert env["BALAI_LETTER_KEYS_ARN"].endswith("/keys")
    assert env["BALAI_LETTERS_BUCKET"] == "balai-prod-letters-1-x"
    assert env["BALAI_TABLE_STREAM_ARN"].startswith("arn:aws:dynamodb:")
    assert (env["BALAI_SMS_CHANNEL"], env["BALAI_EMAIL_CHANNEL"]) == ("sns", "ses")
    # the API's CORS allows the web front end's origin only (chalicelib/config.py defaults to it)
    assert env["BALAI_WEB_BASE_URL"] == "https://layanan.sinjaikab.go.id"
    assert "BALAI_CORS_ORIGINS" not in env


def test_outputs_to_config_refuses_incomplete_or_wrong_stage(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{}")
    incomplete = tmp_path / "a.json"
    incomplete.write_text(json.dumps(_describe({"TableName": "t"})))
    assert outputs_to_config.main([str(incomplete), "--config", str(path)]) == 2
    staging = tmp_path / "b.json"
    staging.write_text(json.dumps(_describe({**STACK_OUTPUTS, "Stage": "staging"})))
    assert outputs_to_config.main([str(staging), "--config", str(path)]) == 2
    assert path.read_text() == "{}"


def test_init_secrets_adds_nik_hash_key_once() -> None:
    completed = init_secrets.completed_secret({"jwt_key": "j"})
    assert completed is not None and completed["jwt_key"] == "j" and len(completed["nik_hash_key"]) >= 48
    # An existing nik_hash_key is never replaced: every citizen lookup key depends on it.
    assert init_secrets.completed_secret(completed) is None
    with pytest.raises(ValueError):
        init_secrets.completed_secret({})


def test_init_secrets_creates_keys_once_and_carries_an_old_secret_over() -> None:
    # Given no parameter yet: fresh keys
    fresh = init_secrets.plan(None, None)
    assert fresh is not None and len(fresh["jwt_key"]) >= 48 and len(fresh["nik_hash_key"]) >= 48
    # Given an earlier deployment's Secrets Manager value: its keys are copied unchanged
    old = {"jwt_key": "j", "nik_hash_key": "n"}
    assert init_secrets.plan(None, old) == old
    # Given a parameter that already holds both keys: nothing is written, also on a second run
    assert init_secrets.plan(old, None) is None and init_secrets.plan(old, old) is None
    # Given a parameter whose nik_hash_key differs from the old secret's: refused, nothing decided for ops
    with pytest.raises(ValueError):
        init_secrets.plan({"jwt_key": "j", "nik_hash_key": "other"}, old)
    assert init_secrets.parameter_name("arn:aws:ssm:ap-southeast-3:1:parameter/balai/prod/app") == "/balai/prod/app"


def test_fixed_costs_stay_down(template: dict[str, Any]) -> None:
    """Issue 14: no Secrets Manager, an X-Ray sampling rule, few alarm metrics, the dashboard optional."""
    resources = template["Resources"]
    kinds = [r["Type"] for r in resources.values()]
    # Secrets live in SSM SecureString parameters the ops CLI writes (free standard tier)
    assert "AWS::SecretsManager::Secret" not in kinds
    # API Gateway samples 5 % for X-Ray; without a rule the default traces nearly everything at village traffic
    (rule,) = [r["Properties"]["SamplingRule"] for r in resources.values() if r["Type"] == "AWS::XRay::SamplingRule"]
    assert rule["ServiceType"] == "AWS::ApiGateway::Stage" and rule["FixedRate"] <= 0.05 and rule["ReservoirSize"] == 0
    # Each alarm metric costs US$0.10 a month: the paging alarms fit in 8
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    metrics = sum(sum(1 for m in a["Metrics"] if "MetricStat" in m) if "Metrics" in a else 1 for a in alarms)
    assert metrics <= 8
    assert all(a.get("AlarmActions") for a in alarms), "every alarm left pages someone"
    # The dashboard (US$3) is created only when asked for
    assert resources["Dashboard"]["Condition"] == "HasDashboard"
    assert template["Parameters"]["CreateDashboard"]["Default"] == "false"
    # Every alarm on the dashboard exists
    body = str(resources["Dashboard"]["Properties"]["DashboardBody"])
    for name in re.findall(r"\$\{(\w+Alarm)\.Arn\}", body):
        assert name in resources, name
    # Attachments tagged by an earlier release expire after the retention (the app now deletes a closed request's
    # files itself: tests/integration/test_attachment_retention.py); nothing else in attachments/ does, and no
    # photo is kept forever in an archive class
    rules = {r["Id"]: r for r in resources["LettersBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    expire = rules["expire-closed-attachments"]
    assert expire["Prefix"] == "attachments/"
    assert expire["TagFilters"] == [{"Key": "balai-retention", "Value": "closed"}]
    assert expire["ExpirationInDays"] == {"Ref": "AttachmentRetentionDays"}
    assert template["Parameters"]["AttachmentRetentionDays"]["Default"] == 30
    assert not any(r.get("Transitions") for r in rules.values())
    assert template["Outputs"]["AttachmentRetentionDays"]["Value"] == {"Ref": "AttachmentRetentionDays"}


def test_outputs_to_config_renders_the_policy_beside_the_config(tmp_path: Path) -> None:
    # Given a config with a policy template beside it and a stack with every output
    (tmp_path / "config.json").write_text(json.dumps({"version": "2.0", "app_name": "balai"}))
    template = {"Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": ["${TableArn}"]},
                              {"Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": [
                                  "arn:${Partition}:logs:${Region}:${AccountId}:log-group:/aws/lambda/${AppName}-${Stage}*"]}]}
    (tmp_path / "policy-prod.template.json").write_text(json.dumps(template))
    outputs = {**STACK_OUTPUTS, "TableArn": "arn:aws:dynamodb:ap-southeast-3:111122223333:table/balai-prod",
               "BucketArn": "arn:aws:s3:::b", "EmailIdentityArn": "arn:aws:ses:ap-southeast-3:111122223333:identity/x.id"}
    source = tmp_path / "stack.json"
    source.write_text(json.dumps(_describe(outputs)))
    # When the helper runs
    assert outputs_to_config.main([str(source), "--config", str(tmp_path / "config.json")]) == 0
    # Then policy-prod.json holds the real ARNs
    policy = json.loads((tmp_path / "policy-prod.json").read_text())
    assert policy["Statement"][0]["Resource"] == [outputs["TableArn"]]
    assert policy["Statement"][1]["Resource"] == [
        "arn:aws:logs:ap-southeast-3:111122223333:log-group:/aws/lambda/balai-prod*"]


def test_outputs_to_config_refuses_a_policy_it_cannot_fill(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "policy-prod.template.json").write_text('{"Resource": "${EmailIdentityArn}"}')
    source = tmp_path / "stack.json"
    source.write_text(json.dumps(_describe(STACK_OUTPUTS)))  # no BucketArn / EmailIdentityArn
    assert outputs_to_config.main([str(source), "--config", str(tmp_path / "config.json")]) == 2
    assert not (tmp_path / "policy-prod.json").exists()
    assert (tmp_path / "config.json").read_text() == "{}"


# ------------------------------------------------------------------------- web front end hosting (10.7)

def _resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(template["Resources"][name]["Properties"])


def test_web_bucket_is_private_and_read_only_by_the_distribution(template: dict[str, Any]) -> None:
    props = _resource(template, "WebBucket")
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert "WebsiteConfiguration" not in props  # no public website endpoint
    statements = _resource(template, "WebBucketPolicy")["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1 and allows[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allows[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in allows[0]["Condition"]["StringEquals"]  # this distribution only
    origin = _resource(template, "WebDistribution")["DistributionConfig"]["Origins"][0]
    assert "OriginAccessControlId" in origin and origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    oac = _resource(template, "WebOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["SigningProtocol"]) == ("always", "sigv4")


def test_web_distribution_is_https_only_with_security_headers(template: dict[str, Any]) -> None:
    config = _resource(template, "WebDistribution")["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert all(b["ViewerProtocolPolicy"] == "redirect-to-https" for b in behaviours)
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "WebSecurityHeaders"} for b in behaviours)
    assert all(b["AllowedMethods"] == ["GET", "HEAD"] and b["Compress"] for b in behaviours)
    headers = _resource(template, "WebSecurityHeaders")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert "ContentTypeOptions" in headers and "ReferrerPolicy" in headers
    csp = json.dumps(headers["ContentSecurityPolicy"])
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "PublicBaseUrl" in csp


def test_web_caching_is_long_for_hashed_assets_and_short_for_config(template: dict[str, Any]) -> None:
    config = _resource(template, "WebDistribution")["DistributionConfig"]
    honour = _resource(template, "WebCachePolicy")["CachePolicyConfig"]
    assert honour["MinTTL"] == 0 and honour["MaxTTL"] >= 31536000  # objects' Cache-Control decides
    by_path = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert by_path["/config.json"]["CachePolicyId"] == {"Ref": "WebConfigCachePolicy"}
    assert _resource(template, "WebConfigCachePolicy")["CachePolicyConfig"]["MaxTTL"] <= 60


def test_uploads_are_allowed_from_the_web_origin_only_and_expire(template: dict[str, Any]) -> None:
    props = _resource(template, "LettersBucket")
    rules = props["CorsConfiguration"]["CorsRules"]
    assert len(rules) == 1 and "POST" in rules[0]["AllowedMethods"]
    assert "*" not in json.dumps(rules[0]["AllowedOrigins"])
    lifecycle = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert lifecycle["expire-temporary-uploads"]["Prefix"] == "uploads/"
    assert lifecycle["expire-temporary-uploads"]["ExpirationInDays"] == 1
    from chalicelib.domain.attachments import attachment_file_key, is_staging, staging_file_key, upload_file_key

    # An upload lands at its final key (no copy at submission); only uploads of the old layout are in the staging
    # prefix this rule empties, and the bucket's rules never touch an untagged attachment.
    assert upload_file_key("v", "1") == attachment_file_key("v", "1") and not is_staging(upload_file_key("v", "1"))
    assert staging_file_key("v", "1").startswith("uploads/") and is_staging(staging_file_key("v", "1"))
    assert all(r.get("Prefix") != "attachments/" or r.get("TagFilters") for r in lifecycle.values())


def test_web_outputs_feed_the_deploy_command_and_the_api(template: dict[str, Any]) -> None:
    deploy_web = importlib.import_module("deploy_web")
    assert set(deploy_web.REQUIRED_OUTPUTS) <= set(template["Outputs"])
    assert outputs_to_config.OUTPUT_TO_ENV["WebBaseUrl"] == "BALAI_WEB_BASE_URL"


def test_the_pages_may_call_the_api_functions_url_and_deploy_web_finds_it(template: dict[str, Any]) -> None:
    # The CSP names the function URL parameter (empty until the app stack exists: then only PublicBaseUrl)
    headers = _resource(template, "WebSecurityHeaders")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert "${ApiFunctionUrl}" in json.dumps(headers["ContentSecurityPolicy"])
    param = template["Parameters"]["ApiFunctionUrl"]
    assert param["Default"] == ""
    pattern = re.compile(param["AllowedPattern"])
    assert pattern.match("") and pattern.match("https://abc123.lambda-url.ap-southeast-3.on.aws/")
    assert not pattern.match("https://evil.example/") and not pattern.match("*")  # no wildcard into the CSP
    # The web's API base: the function URL when set, the REST API otherwise
    value = json.dumps(template["Outputs"]["WebApiBaseUrl"]["Value"])
    assert "HasApiFunctionUrl" in value and "ApiFunctionUrl" in value and "PublicBaseUrl" in value
