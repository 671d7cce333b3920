"""`make deploy-web` (infra/deploy_web.py): config.json from the stack outputs, caching per file, a sync to the
web bucket (moto) that removes stale files, one CloudFront invalidation."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))
deploy_web = importlib.import_module("deploy_web")

OUTPUTS = {"Stage": "prod", "WebBucketName": "balai-prod-web-123456789012-ap-southeast-3",
           "WebDistributionId": "E2EXAMPLE", "WebBaseUrl": "https://layanan.sinjaikab.go.id",
           "PublicBaseUrl": "https://api.sinjaikab.go.id/"}


@pytest.fixture()
def web(tmp_path: Path) -> Path:
    files = {"index.html": "<!doctype html>", "staf/index.html": "<!doctype html>", "assets/lib.js": "export {}",
             "assets/app.3f9a2c1b.css": "body{}", "sw.js": "//", "manifest.webmanifest": "{}",
             "icons/icon-192.png": "png", "config.json": '{"apiBase": "http://127.0.0.1:8000"}',
             ".DS_Store": "x", "assets/lib.js.map": "{}"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


class FakeCloudFront:
    """Records the invalidations it was asked for."""

    def __init__(self) -> None:
        self.invalidations: list[dict[str, Any]] = []

    def create_invalidation(self, DistributionId: str, InvalidationBatch: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.invalidations.append({"distribution": DistributionId, **InvalidationBatch})
        return {"Invalidation": {"Id": f"I{len(self.invalidations)}"}}


def test_config_json_names_the_api_from_the_stack() -> None:
    assert deploy_web.web_config(OUTPUTS) == {"apiBase": "https://api.sinjaikab.go.id"}
    with pytest.raises(ValueError):
        deploy_web.web_config({**OUTPUTS, "PublicBaseUrl": "http://api.example"})


@pytest.mark.parametrize("key,expected", [
    ("assets/app.3f9a2c1b.css", "public, max-age=31536000, immutable"),
    ("assets/chunk-DZ4X8Q2M.js", "public, max-age=31536000, immutable"),
    ("assets/lib.js", "public, max-age=60, must-revalidate"),
    ("index.html", "public, max-age=60, must-revalidate"),
    ("verifikasi/index.html", "public, max-age=60, must-revalidate"),
    ("config.json", "no-cache"),
    ("sw.js", "no-cache"),
])
def test_caching_is_long_only_for_content_hashed_names(key: str, expected: str) -> None:
    assert deploy_web.cache_control(key) == expected


def test_plan_skips_local_files_and_writes_config_last(web: Path) -> None:
    uploads = deploy_web.plan(web, OUTPUTS)
    keys = [u.key for u in uploads]
    assert ".DS_Store" not in keys and "assets/lib.js.map" not in keys
    assert keys.count("config.json") == 1 and keys[-1] == "config.json"
    assert json.loads(uploads[-1].body) == {"apiBase": "https://api.sinjaikab.go.id"}  # not local mode's
    assert keys[0] == "assets/app.3f9a2c1b.css"  # hashed assets before the pages that name them
    types = {u.key: u.content_type for u in uploads}
    assert types["index.html"].startswith("text/html") and types["assets/lib.js"].startswith("text/javascript")
    assert types["manifest.webmanifest"] == "application/manifest+json"


def test_plan_refuses_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        deploy_web.plan(tmp_path, OUTPUTS)


def test_sync_uploads_with_headers_removes_stale_files_and_invalidates(web: Path) -> None:
    # Given the web bucket with a file from an older deploy
    s3 = boto3.client("s3", region_name="ap-southeast-3")
    bucket = OUTPUTS["WebBucketName"]
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-southeast-3"})
    s3.put_object(Bucket=bucket, Key="assets/old.1234abcd.js", Body=b"old")
    cloudfront = FakeCloudFront()
    # When the deploy runs
    result = deploy_web.sync(s3, cloudfront, OUTPUTS, deploy_web.plan(web, OUTPUTS))
    # Then every file is there with its type and caching, the stale one is gone, the edge is told once
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert "assets/old.1234abcd.js" not in keys and {"index.html", "config.json", "staf/index.html"} <= keys
    head = s3.head_object(Bucket=bucket, Key="config.json")
    assert head["CacheControl"] == "no-cache" and head["ContentType"] == "application/json"
    assert json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read())["apiBase"].startswith("https://")
    assert s3.head_object(Bucket=bucket, Key="assets/app.3f9a2c1b.css")["CacheControl"].endswith("immutable")
    assert result["deleted"] == 1
    assert cloudfront.invalidations == [{"distribution": "E2EXAMPLE", "Paths": {"Quantity": 1, "Items": ["/*"]},
                                         "CallerReference": cloudfront.invalidations[0]["CallerReference"]}]


def test_dry_run_reads_saved_outputs_and_changes_nothing(web: Path, tmp_path: Path, capsys: Any) -> None:
    saved = tmp_path / "stack.json"
    saved.write_text(json.dumps({"Stacks": [{"StackName": "balai-prod", "Outputs": [
        {"OutputKey": k, "OutputValue": v} for k, v in OUTPUTS.items()]}]}))
    assert deploy_web.main(["--outputs", str(saved), "--web-dir", str(web), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert '"apiBase": "https://api.sinjaikab.go.id"' in out and "https://layanan.sinjaikab.go.id" in out


def test_missing_outputs_are_a_clear_error(web: Path, tmp_path: Path, capsys: Any) -> None:
    saved = tmp_path / "stack.json"
    saved.write_text(json.dumps({"Stacks": [{"StackName": "balai-prod", "Outputs": [
        {"OutputKey": "Stage", "OutputValue": "prod"}]}]}))
    assert deploy_web.main(["--outputs", str(saved), "--web-dir", str(web), "--dry-run"]) == 2
    assert "WebBucketName" in capsys.readouterr().err


FUNCTION_URL = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.ap-southeast-3.on.aws/"


def test_the_web_calls_the_api_functions_url_once_the_stack_names_it() -> None:
    # Given an infra stack whose ApiFunctionUrl parameter is set (its WebApiBaseUrl output is that URL)
    outputs = {**OUTPUTS, "WebApiBaseUrl": FUNCTION_URL}
    # Then config.json sends the web's calls there, without the trailing slash the Lambda output has
    assert deploy_web.web_config(outputs) == {"apiBase": FUNCTION_URL.rstrip("/")}
    # And the documented fallback switch sends them to the REST API again
    assert deploy_web.web_config(outputs, rest=True) == {"apiBase": "https://api.sinjaikab.go.id"}


def test_the_fallback_switch_on_the_command_line(web: Path, tmp_path: Path, capsys: Any) -> None:
    saved = tmp_path / "stack.json"
    saved.write_text(json.dumps({"Stacks": [{"StackName": "balai-prod", "Outputs": [
        {"OutputKey": k, "OutputValue": v} for k, v in {**OUTPUTS, "WebApiBaseUrl": FUNCTION_URL}.items()]}]}))
    assert deploy_web.main(["--outputs", str(saved), "--web-dir", str(web), "--dry-run"]) == 0
    assert f'"apiBase": "{FUNCTION_URL.rstrip("/")}"' in capsys.readouterr().out
    assert deploy_web.main(["--outputs", str(saved), "--web-dir", str(web), "--dry-run", "--rest-api"]) == 0
    assert '"apiBase": "https://api.sinjaikab.go.id"' in capsys.readouterr().out
