"""The prod IAM policy allows exactly the AWS actions the Lambda code calls, each on its own resource."""

from __future__ import annotations

import ast
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / ".chalice" / "policy-prod.template.json"
RENDERED = ROOT / ".chalice" / "policy-prod.json"
CONFIG = ROOT / ".chalice" / "config.json"

# What the Lambda functions run: app.py and chalicelib/, which is exactly what Chalice packages.
# chalicelib/ops/ is left out on purpose: the operator CLI (create-table, import-regions, key rotation,
# export/restore …) runs on an operator's machine with the operator's credentials, never under the Lambda
# role, so its calls (BatchWriteItem, CreateTable, PutSecretValue, S3 backups …) must NOT be in this policy.
EXCLUDED_DIRS = ("chalicelib/ops/",)
# Functions outside ops/ that only the operator CLI or local mode call. The test below proves no module
# the Lambda runs refers to them; if one ever does, it stops being excluded and the policy test fails.
OPERATOR_ONLY: dict[str, str] = {
    "chalicelib/storage/regions.py:put_many": "import-regions (BatchWriteItem)",
    "chalicelib/storage/people.py:create_staff_many": "seed-demo (BatchWriteItem)",
    "chalicelib/storage/residents.py:put_many": "seed-demo's resident registers (BatchWriteItem)",
    "chalicelib/storage/table.py:create_table": "create-table, local mode (CreateTable, UpdateTimeToLive)",
    "chalicelib/storage/stats.py:replace_all": "recompute-stats (BatchWriteItem)",
}

# ------------------------------------------------------------------------------- call -> IAM action map
# PynamoDB: the DynamoDB API each call makes. IAM has no action for TransactWriteItems/TransactGetItems:
# DynamoDB authorises every element of a transaction by the item-level action (Put -> PutItem, Update ->
# UpdateItem, Delete -> DeleteItem, ConditionCheck -> ConditionCheckItem, Get -> GetItem), so those are
# what a transaction adds here (docs: "Using IAM with DynamoDB transactions").
MODEL_CLASS_CALLS = {  # Model.<method>(...)
    "get": "dynamodb:GetItem",
    "query": "dynamodb:Query",
    "count": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "batch_get": "dynamodb:BatchGetItem",
    "batch_write": "dynamodb:BatchWriteItem",
    "exists": "dynamodb:DescribeTable",
    "describe_table": "dynamodb:DescribeTable",
    "create_table": "dynamodb:CreateTable",
    "delete_table": "dynamodb:DeleteTable",
    "update_ttl": "dynamodb:UpdateTimeToLive",
}
MODEL_INSTANCE_CALLS = {  # item.<method>(...)
    "save": "dynamodb:PutItem",
    "update": "dynamodb:UpdateItem",
    "delete": "dynamodb:DeleteItem",
    "refresh": "dynamodb:GetItem",
}
TRANSACT_WRITE_CALLS = {  # with TransactWrite(...) as tw: tw.<method>(...); tx = Transaction(): tx.<method>(...)
    "save": "dynamodb:PutItem",
    "put": "dynamodb:PutItem",  # storage/transaction.py's Transaction (items sent in the order added)
    "update": "dynamodb:UpdateItem",
    "delete": "dynamodb:DeleteItem",
    "condition_check": "dynamodb:ConditionCheckItem",
}
TRANSACT_GET_CALLS = {"get": "dynamodb:GetItem"}  # with TransactGet(...) as tg: tg.get(...)
BATCH_CALLS = {"save": "dynamodb:BatchWriteItem", "delete": "dynamodb:BatchWriteItem"}  # Model.batch_write()
# PynamoDB's TableConnection/Connection (BaseItem._get_connection()) mirror the low-level API.
CONNECTION_CALLS = {
    "get_item": "dynamodb:GetItem", "put_item": "dynamodb:PutItem", "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem", "query": "dynamodb:Query", "scan": "dynamodb:Scan",
    "batch_get_item": "dynamodb:BatchGetItem", "batch_write_item": "dynamodb:BatchWriteItem",
    "describe_table": "dynamodb:DescribeTable",
}
# Powertools utilities that call AWS with the function's role.
POWERTOOLS_CALLS = {
    "get_secret": ["secretsmanager:GetSecretValue"],  # parameters.get_secret(arn)
    "get_secrets_by_name": ["secretsmanager:BatchGetSecretValue"],
    "get_parameter": ["ssm:GetParameter"],
    "get_parameters": ["ssm:GetParametersByPath"],
    "get_parameters_by_name": ["ssm:GetParameters"],
    "get_app_config": ["appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"],
    # The idempotency persistence layer reads, writes, refreshes and removes its records.
    "DynamoDBPersistenceLayer": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
}
# boto3 clients: the method is the operation's snake_case name (botocore's service model); the IAM action is
# usually "{service}:{Operation}", except where S3 authorises under another name.
BOTO3_OVERRIDES = {
    # HeadObject is authorised as GetObject; and S3 answers a HEAD of a missing key with 404 only when the
    # caller may list the bucket, otherwise 403 (FileStore.exists() needs the 404 to regenerate a PDF).
    "s3:HeadObject": ["s3:GetObject", "s3:ListBucket"],
    "s3:ListObjectsV2": ["s3:ListBucket"],
    "s3:ListObjects": ["s3:ListBucket"],
    "s3:HeadBucket": ["s3:ListBucket"],
    "s3:DeleteObjects": ["s3:DeleteObject"],
    "s3:CopyObject": ["s3:GetObject", "s3:PutObject"],
}
# boto3's hand-written S3 transfer helpers (not in the service model).
BOTO3_CUSTOM = {
    "upload_file": "s3:PutObject", "upload_fileobj": "s3:PutObject",
    "download_file": "s3:GetObject", "download_fileobj": "s3:GetObject",
}
# The Lambda platform itself, from the Chalice config and decorators rather than from calls.
LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
XRAY = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]  # the X-Ray daemon, when anything is traced
STREAM = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
# What Lambda's SQS event source mapping does with the function's role (on_sqs_message handlers).
SQS_EVENT_SOURCE = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
# Powertools Metrics writes EMF lines to stdout (CloudWatch Logs turns them into metrics), so
# cloudwatch:PutMetricData is not needed; the Tracer sends segments through the X-Ray daemon (XRAY above).

# ------------------------------------------------------------------------------- where each action may act
# Resources as written in the policy template (${...} are stack outputs, rendered at deploy time).
TABLE, INDEXES, STREAMS = "${TableArn}", "${TableArn}/index/*", "${TableArn}/stream/*"
LOG_GROUP = "arn:${Partition}:logs:${Region}:${AccountId}:log-group:/aws/lambda/${AppName}-${Stage}*"
SECRET_SETTINGS = {"secrets_arn": "${AppSecretParameterArn}", "letter_keys_arn": "${LetterKeysParameterArn}"}
# Every S3 key the code builds starts with one of these: letter PDFs, attachment uploads of the old layout (a
# staging prefix the bucket's lifecycle empties) and the attachments (where uploads now land).
LETTER_PREFIXES = ("letters/", "uploads/", "attachments/")
# Where AWS allows no narrower resource; every other action must name its resource.
STAR_REQUIRED = {
    # Direct-to-phone SMS has no resource ARN (no topic); the policy also Denies Publish on every topic ARN.
    "sns:Publish": "SMS to a phone number has no resource ARN",
    "xray:PutTraceSegments": "X-Ray supports no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray supports no resource-level permissions",
}


def expected_resources(action: str, secrets: set[str]) -> set[str]:
    """The exact Resource list the template must give `action`."""
    if action in STAR_REQUIRED:
        return {"*"}
    if action == "logs:CreateLogGroup":
        return {LOG_GROUP}
    if action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        return {LOG_GROUP + ":log-stream:*"}
    if action in STREAM:
        return {STREAMS}
    if action == "dynamodb:Query":
        return {TABLE, INDEXES}
    if action.startswith("dynamodb:"):
        return {TABLE}
    if action == "s3:ListBucket":
        return {"${BucketArn}"}
    if action == "s3:DeleteObject":
        return {"${BucketArn}/attachments/*"}  # only attachments past their retention are ever deleted
    if action == "s3:GetObjectVersion":
        return {"${BucketArn}/attachments/*"}  # links pin an attachment's version as submitted
    if action.startswith("s3:"):
        return {f"${{BucketArn}}/{prefix}*" for prefix in LETTER_PREFIXES}
    if action in ("secretsmanager:GetSecretValue", "ssm:GetParameter"):
        return secrets
    if action.startswith("ses:"):
        return {"${EmailIdentityArn}"}
    if action.startswith("sqs:"):
        return {"${IssueQueueArn}"}  # the issuing queue is the only queue
    raise AssertionError(f"no resource rule for {action}: add one to expected_resources()")


# ------------------------------------------------------------------------------- the scanner


@dataclass(frozen=True)
class Use:
    action: str
    where: str  # file:line
    why: str


def lambda_sources() -> list[Path]:
    files = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
    return [f for f in files if not any(f.relative_to(ROOT).as_posix().startswith(d) for d in EXCLUDED_DIRS)]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@lru_cache(maxsize=1)
def _trees() -> dict[str, ast.Module]:
    return {_rel(f): ast.parse(f.read_text(), filename=str(f)) for f in lambda_sources()}


@lru_cache(maxsize=1)
def model_classes() -> frozenset[str]:
    """Names of every PynamoDB model class (subclasses of Model, transitively), and of index classes."""
    bases: dict[str, set[str]] = {}
    for tree in _trees().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                for b in node.bases:  # GlobalSecondaryIndex[Any]
                    if isinstance(b, ast.Subscript) and isinstance(b.value, ast.Name):
                        bases[node.name].add(b.value.id)
    models = {"Model"}
    changed = True
    while changed:
        changed = False
        for name, parents in bases.items():
            if name not in models and parents & models:
                models.add(name)
                changed = True
    return frozenset(models)


@lru_cache(maxsize=1)
def model_factories() -> frozenset[str]:
    """Functions whose return annotation is a model class (e.g. `def _to_item(...) -> RequestItem`)."""
    models = model_classes()
    names = set()
    for tree in _trees().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.returns is not None:
                ann = node.returns.value if isinstance(node.returns, ast.Constant) else ast.unparse(node.returns)
                if isinstance(ann, str) and ann.strip("'\"") in models:
                    names.add(node.name)
    return frozenset(names)


def _callee_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _annotation(node: ast.expr | None) -> str:
    return "" if node is None else ast.unparse(node).strip("'\"")


class _Scanner(ast.NodeVisitor):
    """Walks one module, keeping a small per-function map of variable -> kind (model item, transaction …)."""

    def __init__(self, path: str, clients: set[str], uses_pynamodb: bool) -> None:
        self.path = path
        self.uses_pynamodb = uses_pynamodb  # a module that imports pynamodb or chalicelib.storage
        self.clients = clients  # AWS services the scanned code makes boto3 clients for
        self.uses: list[Use] = []
        self.unresolved: list[str] = []
        self.scopes: list[dict[str, str]] = [{}]
        self.models = model_classes()
        self.factories = model_factories()

    # -- kinds of expressions
    def kind(self, node: ast.expr) -> str:
        if isinstance(node, ast.Name):
            if node.id in self.models:
                return "model_class"
            for scope in reversed(self.scopes):
                if node.id in scope:
                    return scope[node.id]
            return ""
        if isinstance(node, ast.Call):
            name = _callee_name(node.func)
            if name in self.models:
                return "model_item"
            if name in self.factories:
                return "model_item"
            if name in ("TransactWrite", "Transaction"):
                return "transact_write"
            if name == "TransactGet":
                return "transact_get"
            if name == "_get_connection" or name == "transaction_connection":
                return "connection"
            if name == "batch_write" and isinstance(node.func, ast.Attribute):
                return "batch"
            if name == "get" and isinstance(node.func, ast.Attribute) and self.kind(node.func.value) == "model_class":
                return "model_item"
            if name == "client" and node.args and isinstance(node.args[0], ast.Constant):
                return f"client:{node.args[0].value}"
            return ""
        if isinstance(node, ast.Attribute):
            base = self.kind(node.value)
            if base == "model_class" and node.attr.startswith("gsi"):
                return "index"
            if base == "connection" and node.attr == "connection":
                return "connection"
            if "client" in node.attr.lower():
                return "client"
            return ""
        if isinstance(node, ast.IfExp):
            return self.kind(node.body) or self.kind(node.orelse)
        return ""

    def bind(self, target: ast.expr, kind: str) -> None:
        if kind and isinstance(target, ast.Name):
            self.scopes[-1][target.id] = kind

    # -- scopes
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        scope: dict[str, str] = {}
        for arg in [*node.args.args, *node.args.kwonlyargs]:
            ann = _annotation(arg.annotation)
            if ann in ("TransactWrite", "Transaction", "TransactGet"):
                scope[arg.arg] = "transact_get" if ann == "TransactGet" else "transact_write"
            elif ann in self.models:
                scope[arg.arg] = "model_item"
            elif "client" in arg.arg.lower():
                scope[arg.arg] = "client"
        self.scopes.append(scope)
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self.bind(item.optional_vars, self.kind(item.context_expr))
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        kind = self.kind(node.value)
        if kind == "" and isinstance(node.value, ast.Call):
            # item = Model.get(...) is a model item; results = Model.gsi1.query(...) iterates model items
            func = node.value.func
            if isinstance(func, ast.Attribute) and self.kind(func.value) in ("model_class", "index"):
                kind = "model_item" if func.attr == "get" else "model_results"
        for target in node.targets:
            self.bind(target, kind)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.bind(node.target, self.kind(node.value))
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        it = node.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("query", "scan") \
                and self.kind(it.func.value) in ("model_class", "index"):
            self.bind(node.target, "model_item")
        elif self.kind(it) == "model_results":
            self.bind(node.target, "model_item")
        self.generic_visit(node)

    # -- calls
    def add(self, node: ast.AST, actions: list[str] | str, why: str) -> None:
        for action in [actions] if isinstance(actions, str) else actions:
            self.uses.append(Use(action, f"{self.path}:{getattr(node, 'lineno', 0)}", why))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = _callee_name(func)
        text = ast.unparse(func)
        if name in POWERTOOLS_CALLS and (name == "DynamoDBPersistenceLayer" or "parameters" in text):
            self.add(node, POWERTOOLS_CALLS[name], f"Powertools {text}()")
            if name in ("get_secret", "get_parameter"):
                self.add_secret(node)
        elif name in ("TransactWrite", "TransactGet"):
            pass  # the item-level calls inside decide the actions
        elif isinstance(func, ast.Attribute):
            self.attribute_call(node, func)
        self.generic_visit(node)

    def add_secret(self, node: ast.Call) -> None:
        arg = ast.unparse(node.args[0]) if node.args else ""
        setting = arg.rsplit(".", 1)[-1]
        if setting not in SECRET_SETTINGS:
            self.unresolved.append(f"{self.path}:{node.lineno}: get_secret({arg}): which secret? see SECRET_SETTINGS")
        self.uses.append(Use("secret:" + setting, f"{self.path}:{node.lineno}", arg))

    def attribute_call(self, node: ast.Call, func: ast.Attribute) -> None:
        method, receiver = func.attr, func.value
        kind = self.kind(receiver)
        where = ast.unparse(func)
        if kind == "module":
            return  # a function of another scanned module (or a library's), seen where it is defined
        if kind == "model_class" and method in MODEL_CLASS_CALLS:
            self.add(node, MODEL_CLASS_CALLS[method], where)
        elif kind == "index" and method in ("query", "count", "scan"):
            self.add(node, "dynamodb:Scan" if method == "scan" else "dynamodb:Query", where)
        elif kind == "model_item" and method in MODEL_INSTANCE_CALLS:
            if method == "update" and not (node.args or node.keywords):
                return
            self.add(node, MODEL_INSTANCE_CALLS[method], where)
        elif kind == "transact_write" and method in TRANSACT_WRITE_CALLS:
            self.add(node, TRANSACT_WRITE_CALLS[method], f"TransactWriteItems: {where}")
        elif kind == "transact_get" and method in TRANSACT_GET_CALLS:
            self.add(node, TRANSACT_GET_CALLS[method], f"TransactGetItems: {where}")
        elif kind == "batch" and method in BATCH_CALLS:
            self.add(node, BATCH_CALLS[method], where)
        elif kind == "connection" and method in CONNECTION_CALLS:
            self.add(node, CONNECTION_CALLS[method], where)
        elif kind.startswith("client"):
            self.client_call(node, method, kind.partition(":")[2])
        elif self.uses_pynamodb and (method in ("save", "delete", "refresh", "condition_check") or (
                method == "update" and any(k.arg == "actions" for k in node.keywords))):
            self.unresolved.append(f"{self.path}:{node.lineno}: {where}(): PynamoDB write on an unknown receiver")
        elif method == "query" and self.path.startswith("chalicelib/storage/"):
            # e.g. `index.query(...)` with the index passed in: a Query on the table or one of its GSIs.
            self.add(node, "dynamodb:Query", where)

    def client_call(self, node: ast.Call, method: str, service: str) -> None:
        if method == "generate_presigned_post":
            # The browser's upload is signed with the role's credentials: S3 authorises it as PutObject.
            self.add(node, "s3:PutObject", "boto3 s3.generate_presigned_post")
            return
        if method == "generate_presigned_url":
            # The link is signed with the role's credentials: whoever follows it acts as the role.
            op = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            kw = {k.arg: k.value for k in node.keywords}
            if op is None and isinstance(kw.get("ClientMethod"), ast.Constant):
                op = kw["ClientMethod"].value  # type: ignore[union-attr]
            if op is None:
                self.unresolved.append(f"{self.path}:{node.lineno}: generate_presigned_url with a computed method")
                return
            method = str(op)
            params = kw.get("Params")
            if method == "get_object" and isinstance(params, ast.Dict) and any(
                    isinstance(k, ast.Constant) and k.value == "VersionId" for k in params.keys):
                # A link to one version of an object (an attachment as submitted) needs GetObjectVersion.
                self.add(node, "s3:GetObjectVersion", "boto3 s3.generate_presigned_url(get_object, VersionId)")
                return
        if method in BOTO3_CUSTOM:
            self.add(node, BOTO3_CUSTOM[method], f"boto3 {method}")
            return
        candidates = [svc for svc in ([service] if service else sorted(self.clients)) if method in _operations(svc)]
        if len(candidates) != 1:
            if method not in ("close", "get_paginator", "get_waiter", "can_paginate", "meta"):
                self.unresolved.append(f"{self.path}:{node.lineno}: client.{method}(): service is {candidates or '?'}")
            return
        svc = candidates[0]
        action = f"{_iam_prefix(svc)}:{_operations(svc)[method]}"
        self.add(node, BOTO3_OVERRIDES.get(action, [action]), f"boto3 {svc}.{method}")


@cache
def _operations(service: str) -> dict[str, str]:
    """snake_case method -> OperationName for one service, from botocore's bundled model."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


def _iam_prefix(service: str) -> str:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    return str(model.signing_name or model.endpoint_prefix)


def boto3_services() -> set[str]:
    """Services the scanned code makes clients for: boto3.client("sns"), observability.aws_client("ses") (the
    traced factory) and friends (literal names)."""
    found = set()
    for tree in _trees().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _callee_name(node.func) in ("client", "aws_client") and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def app_platform_uses() -> list[Use]:
    """What the Lambda service does with the role: logs always; X-Ray when enabled; stream reads per handler."""
    uses = [Use(a, "Lambda", "function logs") for a in LOGS]
    config = json.loads(CONFIG.read_text())
    if config["stages"]["prod"].get("xray", config.get("xray")):
        uses += [Use(a, ".chalice/config.json", "xray: true") for a in XRAY]
    # Tracing by sampling (issue 14): API Gateway traces the requests its sampling rule picks and the
    # functions (tracing mode PassThrough) send the segments of exactly those through the X-Ray daemon.
    merge = json.loads((ROOT / "infra" / "chalice-prod-merge.json").read_text())
    if merge["Resources"].get("RestAPI", {}).get("Properties", {}).get("TracingEnabled"):
        uses += [Use(a, "infra/chalice-prod-merge.json", "API tracing, PassThrough") for a in XRAY]
    for node in ast.walk(_trees()["app.py"]):
        if isinstance(node, ast.Attribute) and node.attr == "on_dynamodb_record":
            uses += [Use(a, f"app.py:{node.lineno}", "stream event source") for a in STREAM]
        if isinstance(node, ast.Attribute) and node.attr == "on_sqs_message":
            uses += [Use(a, f"app.py:{node.lineno}", "SQS event source") for a in SQS_EVENT_SOURCE]
    return uses


@lru_cache(maxsize=1)
def scan() -> tuple[tuple[Use, ...], tuple[str, ...]]:
    clients = boto3_services()
    uses: list[Use] = []
    unresolved: list[str] = []
    skip = _operator_only_nodes()
    for path, tree in _trees().items():
        scanner = _Scanner(path, clients, _imports_pynamodb(tree))
        scanner.scopes[0].update({name: "module" for name in _imported_modules(tree)})
        for node in tree.body:
            if (path, getattr(node, "name", None)) in skip:
                continue
            scanner.visit(node)
        uses += scanner.uses
        unresolved += scanner.unresolved
    return tuple(uses + app_platform_uses()), tuple(unresolved)


def _imported_modules(tree: ast.Module) -> set[str]:
    """Names bound to modules (`from chalicelib.storage import regions as regions_repo`): repository
    functions such as regions_repo.save() are scanned in their own module, not taken for Model.save()."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = ROOT / node.module.replace(".", "/")
            names |= {a.asname or a.name for a in node.names
                      if (base / f"{a.name}.py").exists() or (base / a.name).is_dir()}
    return names


def _imports_pynamodb(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and (
                node.module.startswith(("pynamodb", "chalicelib.storage"))):
            return True
        if isinstance(node, ast.Import) and any(a.name.startswith("pynamodb") for a in node.names):
            return True
    return False


def _operator_only_nodes() -> set[tuple[str, str]]:
    return {tuple(key.split(":")) for key in OPERATOR_ONLY}  # type: ignore[misc]


def used_actions() -> dict[str, list[Use]]:
    by_action: dict[str, list[Use]] = defaultdict(list)
    for use in scan()[0]:
        if not use.action.startswith("secret:"):
            by_action[use.action].append(use)
    return dict(by_action)


def used_secrets() -> set[str]:
    return {SECRET_SETTINGS[u.action.partition(":")[2]] for u in scan()[0]
            if u.action.startswith("secret:") and u.action.partition(":")[2] in SECRET_SETTINGS}


# ------------------------------------------------------------------------------- the policy


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@lru_cache(maxsize=1)
def policy() -> dict[str, Any]:
    return dict(json.loads(TEMPLATE.read_text()))


def allowed() -> dict[str, set[str]]:
    """action -> resources, over the Allow statements of the template."""
    result: dict[str, set[str]] = defaultdict(set)
    for st in policy()["Statement"]:
        if st["Effect"] == "Allow":
            assert "NotAction" not in st and "NotResource" not in st, st.get("Sid")
            for action in _as_list(st["Action"]):
                result[action] |= set(_as_list(st["Resource"]))
    return dict(result)


# ------------------------------------------------------------------------------- tests


def test_every_call_is_classified() -> None:
    # A write or client call the scanner cannot attribute is a gap in this test, not in the policy:
    # give the receiver a type annotation (or name a boto3 client `*client*`), or extend the map above.
    assert scan()[1] == ()


def test_the_scanner_sees_the_calls_we_know_of() -> None:
    # Guards the scanner itself: these calls exist today (storage, adapters); if it stopped seeing them,
    # an empty "used" set would make the policy test pass vacuously.
    used = used_actions()
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
                   "dynamodb:DeleteItem", "sns:Publish", "ses:SendEmail", "s3:PutObject", "s3:GetObject"):
        assert action in used, action
    assert {u.why for u in used["dynamodb:PutItem"]} & {"TransactWriteItems: tx.put"}
    assert {u.why for u in used["dynamodb:UpdateItem"]} & {"TransactWriteItems: tx.update"}
    assert used_secrets() == {"${AppSecretParameterArn}", "${LetterKeysParameterArn}"}
    # The keys live in SSM SecureString parameters, not Secrets Manager (issue 14: no rotation is used)
    assert "ssm:GetParameter" in used_actions() and "secretsmanager:GetSecretValue" not in used_actions()


def test_policy_allows_every_action_the_code_calls_on_its_resource() -> None:
    granted = allowed()
    missing = {a: [u.where for u in uses][:3] for a, uses in used_actions().items() if a not in granted}
    assert not missing, f"actions the code calls that the policy does not allow: {missing}"
    for action in used_actions():
        assert granted[action] == expected_resources(action, used_secrets()), action


def test_policy_allows_nothing_the_code_does_not_call() -> None:
    extra = set(allowed()) - set(used_actions())
    assert not extra, f"allowed but never called (remove from .chalice/policy-prod.template.json): {sorted(extra)}"


def test_star_resources_only_where_aws_requires_them() -> None:
    for action, resources in allowed().items():
        if "*" in resources or any(r.endswith(":*") and "log-stream" not in r for r in resources):
            assert action in STAR_REQUIRED and resources == {"*"}, action
    for resources in allowed().values():
        for resource in resources:
            # Wildcards elsewhere only inside this deployment's own resources (indexes, streams, objects).
            if resource != "*" and "*" in resource:
                assert resource.startswith(("${TableArn}/", "${BucketArn}/", "arn:${Partition}:logs:")), resource


def test_sms_publish_cannot_reach_topics() -> None:
    # Publish must be "*" for direct SMS; an explicit Deny on every topic ARN keeps it to phone numbers.
    denies = [st for st in policy()["Statement"] if st["Effect"] == "Deny"]
    assert [(_as_list(d["Action"]), _as_list(d["Resource"])) for d in denies] == [
        (["sns:Publish"], ["arn:${Partition}:sns:*:*:*"])]


def test_s3_keys_stay_under_the_allowed_prefixes() -> None:
    # The S3 statement names letters/* only: every key the code builds must start there.
    keys = []
    for path, tree in _trees().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "file_key" and isinstance(node.value, ast.JoinedStr):
                first = node.value.values[0]
                keys.append((path, first.value if isinstance(first, ast.Constant) else ""))
        # ...and the functions that build them (`def upload_file_key(...) -> str: return f"uploads/..."`)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.endswith("file_key"):
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.JoinedStr):
                        first = ret.value.values[0]
                        keys.append((path, first.value if isinstance(first, ast.Constant) else ""))
    assert keys, "no file_key found: has the letter storage moved?"
    assert {str(prefix).split("/")[0] for _, prefix in keys} >= {"letters", "uploads", "attachments"}
    for path, prefix in keys:
        assert str(prefix).startswith(LETTER_PREFIXES), (path, prefix)


def test_operator_only_functions_are_not_called_by_the_lambda_code() -> None:
    names = {key.split(":")[1]: key for key in OPERATOR_ONLY}
    skip = _operator_only_nodes()
    for path, tree in _trees().items():
        for top in tree.body:
            if (path, getattr(top, "name", None)) in skip:
                continue  # the definition itself
            for node in ast.walk(top):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                        and node.value.id in model_classes():
                    continue  # Model.create_table() is PynamoDB's method, not the function of that name
                ref = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
                if ref not in names:
                    continue
                pytest.fail(f"{path}:{node.lineno} uses {ref} ({names[ref]}): remove it from OPERATOR_ONLY "
                            "so its calls count for the policy")


def test_no_scan_in_the_lambda_code() -> None:
    assert "dynamodb:Scan" not in used_actions()


def test_committed_policy_is_the_template_rendered() -> None:
    sys.path.insert(0, str(ROOT / "infra"))
    import outputs_to_config

    variables = outputs_to_config.policy_variables(outputs_to_config.example_outputs("prod"), "balai")
    rendered = json.loads(RENDERED.read_text())
    if "123456789012" in RENDERED.read_text():  # the committed example; a deployer's own render is theirs
        assert rendered == outputs_to_config.render_policy(policy(), variables)
    assert not re.search(r"\$\{", RENDERED.read_text()), "unrendered ${...} left in policy-prod.json"


def test_prod_stage_uses_the_written_policy() -> None:
    prod = json.loads(CONFIG.read_text())["stages"]["prod"]
    assert prod["autogen_policy"] is False
    assert prod["iam_policy_file"] == RENDERED.name
