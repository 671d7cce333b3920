"""Balai's Chalice app: blueprints and event handlers only; the logic lives in chalicelib/."""

# What every request and event needs is imported here, at INIT: the table's models (PynamoDB, botocore), settings,
# Chalice, Powertools. Each route imports its service when it runs, and each handler its worker, so a cold start
# does not compile and load the code of the ~100 routes its first request does not call (INIT is billed).
import chalicelib.storage.models  # noqa: F401
from chalicelib.api import (
    attachments,
    auth,
    complaints,
    cors,
    letters,
    messages,
    notifications,
    open311,
    public,
    requests,
    residents,
    staff,
    stats,
    villages,
    webhooks,
)
from chalicelib.api.function_url import BalaiApp
from chalicelib.config import get_settings
from chalicelib.observability import SERVICE, install
from chalicelib.workers.schedules import SCHEDULES

# Powertools owns the "balai" logger: Chalice's own log set-up would add a second handler at level ERROR to
# the same logger whenever it is not already writing to the current stdout, silencing every INFO line.
# BalaiApp is Chalice that also answers the web's calls through the function URL (payload 2.0; REST unchanged).
app = BalaiApp(app_name=SERVICE, configure_logs=False)
app.experimental_feature_flags.update(["BLUEPRINTS"])
# Letter PDFs served by the local file route are binary.
app.api.binary_types.append("application/pdf")
# Attachments: photos shown through local links, and the local upload form (binary file parts).
app.api.binary_types.extend(["image/jpeg", "image/png", "multipart/form-data"])
# Resident register imports arrive as .xlsx files.
app.api.binary_types.append(residents.XLSX)
app.register_blueprint(public.bp)
app.register_blueprint(auth.bp)
app.register_blueprint(requests.bp)
app.register_blueprint(villages.bp)
app.register_blueprint(letters.bp)
app.register_blueprint(notifications.bp)
app.register_blueprint(staff.bp)
app.register_blueprint(residents.bp)
app.register_blueprint(attachments.bp)
app.register_blueprint(stats.bp)
app.register_blueprint(messages.bp)
app.register_blueprint(complaints.bp)
app.register_blueprint(open311.bp)
app.register_blueprint(webhooks.bp)
# After every route: CORS for the configured origins only, and a preflight answer for each path.
cors.install(app)
# Every handler: Powertools' Lambda context in its log lines, its metrics flushed once per invocation.
install(app)


@app.middleware("http")
def error_shape(event, get_response):  # type: ignore[no-untyped-def]
    """Chalice's own error answers (415, 405) get Balai's {"code","message"} shape (Open311's error array there)."""
    from chalicelib.api.http import normalize_error_body
    from chalicelib.api.open311 import georeport_error_body

    return georeport_error_body(event.path, normalize_error_body(get_response(event)))


# ---- notifications (issue 4): each handler is one call into chalicelib/workers/ --------------------
if get_settings().is_stream_function:
    # Only the stream function's containers: its handler's code and provider clients at INIT (full vCPU)
    from chalicelib.workers.outbox import prepare_container

    prepare_container()


@app.on_dynamodb_record(stream_arn=get_settings().stream_arn, batch_size=100, starting_position="LATEST")
def on_table_stream(event):  # type: ignore[no-untyped-def]
    """Send the outbox rows a batch of table changes announces; delete the attachments whose retention ran out
    and the uploads no submission used (DynamoDB's TTL removals)."""
    from chalicelib.workers import outbox, retention

    outbox.handle_stream(event)
    retention.handle_stream(event)


# ---- letters: the issuing queue (SQS FIFO, one message group per village) -------------------------
@app.on_sqs_message(queue_arn=get_settings().issue_queue_arn, batch_size=10)
def issue_letters(event):  # type: ignore[no-untyped-def]
    """Number, render, store and commit the letters the signers decided to issue, one village at a time."""
    from chalicelib.workers import issuing

    issuing.handle_sqs_event(event)


# ---- schedules: rates and targets declared once in chalicelib/workers/schedules.py (local mode runs them too)
@app.schedule(SCHEDULES["outbox_retry"].expression, name="outbox_retry")
def outbox_retry(event):  # type: ignore[no-untyped-def]
    """Retry notifications whose backoff, quiet hours or lease has ended."""
    SCHEDULES["outbox_retry"].run()


@app.schedule(SCHEDULES["sla_escalation"].expression, name="sla_escalation")
def sla_escalation(event):  # type: ignore[no-untyped-def]
    """Remind near the SLA, escalate past it (camat) and past twice (admin kabupaten)."""
    SCHEDULES["sla_escalation"].run()


@app.schedule(SCHEDULES["daily_digest"].expression, name="daily_digest")
def daily_digest(event):  # type: ignore[no-untyped-def]
    """Hourly; queues each village's digest once its kabupaten's clock reads 07:00 (WIB/WITA/WIT alike)."""
    SCHEDULES["daily_digest"].run()
