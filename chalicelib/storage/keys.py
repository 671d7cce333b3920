"""Every key of the single table is built here, so the layout is visible in one place."""

from __future__ import annotations

META = "META"


# Regions: one item per region; children listed through GSI1 by parent code.
def region_pk(code: str) -> str:
    return f"REGION#{code}"


def region_children_pk(parent_code: str) -> str:
    return f"CHILDREN#{parent_code}"


# The kabupaten imported into the table: one item, written by import-regions, read by the schedules.
KABUPATEN_REGISTRY_PK = "REGISTRY#KABUPATEN"


# Letter-type settings of a village live in the village's region item (one GetItem on submit).

# Service requests: the request, its audit events and its letter share one partition.
def request_pk(request_id: str) -> str:
    return f"REQ#{request_id}"


def request_id_of(pk: str) -> str:
    """The request id its partition key holds (request_pk's inverse)."""
    return pk.removeprefix("REQ#")


def event_sk(at_iso: str, version: int) -> str:
    return f"EVENT#{at_iso}#{version:06d}"


def event_time_and_version(sk: str) -> tuple[str, int]:
    """The time and version an event's sort key holds (event_sk, download_event_sk)."""
    _, at_iso, version = sk.split("#")[:3]
    return at_iso, int(version)


def village_queue_pk(village: str) -> str:
    return f"QUEUE#{village}"


def village_status_pk(village: str, status: str) -> str:
    return f"QUEUE#{village}#{status}"


def queue_sk(created_iso: str, request_id: str) -> str:
    return f"{created_iso}#{request_id}"


def citizen_requests_pk(nik_hash: str) -> str:
    return f"CITIZEN_REQ#{nik_hash}"


def due_pk(kabupaten: str) -> str:
    return f"DUE#{kabupaten}"


def due_sk(due_iso: str, request_id: str) -> str:
    return f"{due_iso}#{request_id}"


def tracking_pk(code: str) -> str:
    return f"TRACK#{code}"


def idempotency_pk(subject: str, key: str) -> str:
    return f"IDEMPOTENCY#{subject}#{key}"


# Attachment uploads: one item per presigned upload, expiring by TTL unless a request used it.
def upload_pk(upload_id: str) -> str:
    return f"UPLOAD#{upload_id}"


# A closed request's attachment retention: one item whose TTL expiry is when its files are deleted.
def retention_pk(request_id: str) -> str:
    return f"RETENTION#{request_id}"


# Citizens: looked up by a keyed hash of the NIK, never by the NIK itself.
def citizen_pk(nik_hash: str) -> str:
    return f"CITIZEN#{nik_hash}"


PROFILE = "PROFILE"


def otp_pk(nik_hash: str) -> str:
    return f"OTP#{nik_hash}"


EMAIL_CONFIRM = "EMAIL_CONFIRM"  # SK of the code that confirms a citizen's e-mail, beside their login code


# Rate counters and locks (login throttle, OTP limits): one item per kind and subject, swept by TTL.
def throttle_pk(kind: str, subject: str) -> str:
    return f"THROTTLE#{kind}#{subject}"


def login_audit_pk(username: str) -> str:
    return f"LOGIN_AUDIT#{username}"


def login_audit_sk(at_iso: str, audit_id: str) -> str:
    return f"{at_iso}#{audit_id}"


# Staff accounts.
def staff_pk(username: str) -> str:
    return f"STAFF#{username}"


def staff_region_pk(region: str) -> str:
    return f"STAFF_IN#{region}"


def staff_region_sk(role: str, username: str) -> str:
    return f"{role}#{username}"


# Outbox: one item per notification to send; listed per village and status for staff.
def outbox_pk(outbox_id: str) -> str:
    return f"OUTBOX#{outbox_id}"


def outbox_id(pk: str) -> str:
    """The outbox row's id from its key (the retry index holds only keys)."""
    return pk.removeprefix("OUTBOX#")


def outbox_status_pk(village: str, status: str) -> str:
    return f"OUTBOX_IN#{village}#{status}"


# Letters: one item per issued letter, found by the id its QR token carries (public verification).
def letter_pk(letter_id: str) -> str:
    return f"LETTER#{letter_id}"


def letter_document_pk(ref: str) -> str:
    return f"LETTER_DOC#{ref}"


# Letter numbering: one counter per village, scope ("ALL" or a letter type) and local year.
def letter_counter_pk(village: str, scope: str, year: int) -> str:
    return f"COUNTER#{village}#{scope}#{year}"


# Outbox retries: every unfinished outbox row of a kabupaten, by the time the scheduler should look at
# it (next retry, end of a quiet-hours deferral, expiry of a sender's lease, or a grace period after
# creation in case the stream handler never saw it). Sparse: sent and failed rows leave it.
def outbox_retry_pk(kabupaten: str) -> str:
    return f"OUTBOX_RETRY#{kabupaten}"


def outbox_retry_sk(at_iso: str, outbox_id: str) -> str:
    return f"{at_iso}#{outbox_id}"


def time_upper_bound(at_iso: str) -> str:
    """A sort-key bound that includes every `{iso}#{id}` key at or before `at_iso` ("~" sorts last)."""
    return f"{at_iso}#~"


# Resident register (data penduduk): one partition per village, each resident under a keyed hash of its NIK
# (never the NIK itself); each resident's audit entries in a partition of their own. GSI1 lists residents by
# name and the village's register audit newest first; GSI2 finds the villages whose register holds a NIK hash
# (login, profile).
def resident_pk(village: str) -> str:
    return f"RESIDENT#{village}"


def resident_sk(nik_hash: str) -> str:
    return f"NIK#{nik_hash}"


def resident_history_pk(village: str, nik_hash: str) -> str:
    return f"RESIDENT_HISTORY#{village}#{nik_hash}"


def resident_audit_sk(at_iso: str, entry_id: str) -> str:
    return f"{at_iso}#{entry_id}"


def residents_by_name_pk(village: str) -> str:
    return f"RESIDENTS_BY_NAME#{village}"


def resident_nik_pk(nik_hash: str) -> str:
    return f"RESIDENT_NIK#{nik_hash}"


def download_event_sk(at_iso: str, version: int, entry_id: str) -> str:
    """An audit event that does not change the request (a letter download) sorts among the others."""
    return f"{event_sk(at_iso, version)}#{entry_id}"


# Open311 partner API keys: one item per key (its hash, never the key), listed per kabupaten through GSI1.
def open311_key_pk(key_id: str) -> str:
    return f"OPEN311_KEY#{key_id}"


def open311_keys_pk(kabupaten: str) -> str:
    return f"OPEN311_KEYS#{kabupaten}"
# Transparency aggregates (issue 13): every counter item of a kabupaten in one partition. Kecamatan months
# (C#{month}#{kecamatan}) lie together, so a kabupaten's year is one Query of ~9 x 12 items; a kecamatan's
# villages lie together by month (V#{kecamatan}#{month}#{village}), so a kecamatan's year is one Query of its
# villages only; each region's backlog is N#{code}. The kabupaten's own figures are its kecamatan's, added.
def stats_pk(kabupaten: str) -> str:
    return f"STATS#{kabupaten}"


def stats_sk(month: str, code: str) -> str:
    if month == "current":
        return f"N#{code}"
    if len(code.split(".")) == 4:
        return f"V#{code.rsplit('.', 1)[0]}#{month}#{code}"
    return f"C#{month}#{code}"


def stats_village_range(kecamatan: str, first: str, last: str) -> tuple[str, str]:
    return f"V#{kecamatan}#{first}#", f"V#{kecamatan}#{last}#~"


def stats_kecamatan_range(first: str, last: str) -> tuple[str, str]:
    return f"C#{first}#", f"C#{last}#~"


STATS_CURRENT_PREFIX = "N#"



# Messages (issue 14): a citizen's portal inbox (one partition per citizen, newest last by time; unread = no
# read_at), their Web Push subscriptions, their refresh sessions (one item per session family, listed per
# citizen on GSI1), a kabupaten's message policy overrides, and a village's bill per month.
def inbox_pk(nik_hash: str) -> str:
    return f"INBOX#{nik_hash}"


def inbox_sk(message_id: str) -> str:
    return f"MSG#{message_id}"



def push_subscription_sk(subscription_id: str) -> str:
    return f"PUSH#{subscription_id}"


PUSH_PREFIX = "PUSH#"


def session_pk(family: str) -> str:
    return f"SESSION#{family}"


def citizen_sessions_pk(nik_hash: str) -> str:
    return f"SESSIONS_OF#{nik_hash}"


def signin_link_pk(secret_hash: str) -> str:
    """A one-time sign-in link of a status SMS, keyed by the HMAC of its secret (the secret is never stored)."""
    return f"SIGNIN_LINK#{secret_hash}"


def whatsapp_login_pk(code_hash: str) -> str:
    """A pending WhatsApp login, keyed by the HMAC of its code (the webhook finds it by the code the citizen sent;
    the browser by the code in its login id)."""
    return f"WA_LOGIN#{code_hash}"


def message_policy_pk(kabupaten: str) -> str:
    return f"MESSAGE_POLICY#{kabupaten}"


def bill_pk(region: str) -> str:
    return f"BILL#{region}"


def bill_sk(month: str) -> str:
    return f"MONTH#{month}"


# Complaints and aspirations (pengaduan): the complaint and its audit events share one partition. GSI1 is the
# handling unit's queue by status (a village, or an OPD of the kabupaten), GSI2 the village's public list (sparse:
# public and not hidden), GSI3 the citizen's own, GSI4 the SLA sweep's next checkpoint (sparse, its own partition
# per kabupaten so the requests' sweep never reads a complaint).
def complaint_pk(complaint_id: str) -> str:
    return f"COMPLAINT#{complaint_id}"


def complaint_unit_key(unit_type: str, unit_code: str, kabupaten: str) -> str:
    """A village's code, or OPD#{kabupaten}#{opd code}: OPD codes are only unique within their kabupaten."""
    return unit_code if unit_type == "village" else f"OPD#{kabupaten}#{unit_code}"


def complaint_queue_pk(unit_key: str, status: str) -> str:
    return f"CQUEUE#{unit_key}#{status}"


def complaint_public_pk(village: str) -> str:
    return f"CPUBLIC#{village}"


def citizen_complaints_pk(nik_hash: str) -> str:
    return f"CITIZEN_COMPLAINTS#{nik_hash}"


def complaint_due_pk(kabupaten: str) -> str:
    return f"CDUE#{kabupaten}"


def complaint_idempotency_pk(subject: str, key: str) -> str:
    return f"IDEMPOTENCY#COMPLAINT#{subject}#{key}"


def complaint_daily_pk(nik_hash: str, local_date: str) -> str:
    """The citizen's complaints filed on one local day (the daily limit's counter, swept by TTL)."""
    return f"THROTTLE#complaint-day#{nik_hash}#{local_date}"


# A kabupaten's OPDs and complaint categories: one item, read with the village at filing.
def complaint_config_pk(kabupaten: str) -> str:
    return f"COMPLAINT_CONFIG#{kabupaten}"
