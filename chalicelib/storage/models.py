"""PynamoDB models of the single table, with the access patterns each one serves.

Access patterns (every one a GetItem, a Query on a known key, or a transaction of those):

| pattern                                   | operation                                                   |
|-------------------------------------------|-------------------------------------------------------------|
| region by code (+ its village settings)   | GetItem  PK=REGION#{code}, SK=META                          |
| children of a region                      | Query    GSI1 GSI1PK=CHILDREN#{parent}                      |
| kabupaten imported (the sweeps walk them) | GetItem  PK=REGISTRY#KABUPATEN; UpdateItem ADD on import    |
| submit context: village + citizen profile | TransactGetItems REGION#{desa} + CITIZEN#{hash}/PROFILE     |
| submit a request                          | TransactWriteItems request, event, tracking, idempotency,   |
|                                           |          outbox rows (all conditional puts)                 |
| request with its history (and letter)     | Query    PK=REQ#{id}                                        |
| transition                                | Query PK=REQ#{id}, then TransactWriteItems: request update  |
|                                           |          with version check, event put, outbox puts         |
| village queue, newest first               | Query    GSI1 GSI1PK=QUEUE#{desa}, ScanIndexForward=false    |
| village queue by status                   | Query    GSI2 GSI2PK=QUEUE#{desa}#{status}                  |
| a citizen's requests                      | Query    GSI3 GSI3PK=CITIZEN_REQ#{nik hash} (keys only),    |
|                                           |          then BatchGetItem of the page's requests           |
| open requests by next SLA checkpoint      | Query    GSI4 GSI4PK=DUE#{kabupaten}, GSI4SK <= {now} (keys |
|                                           |          only), then BatchGetItem of the due requests       |
| tracking code -> request                  | GetItem  PK=TRACK#{code}                                    |
| idempotent submit replay                  | GetItem  PK=IDEMPOTENCY#{subject}#{key}                     |
| citizen profile                           | GetItem  PK=CITIZEN#{hash}, SK=PROFILE                      |
| attachment upload (presigned)             | PutItem  PK=UPLOAD#{id} if new (TTL expires_at)             |
| closed request's attachment retention     | PutItem  PK=RETENTION#{request id} (TTL expires_at: the     |
|                                           |          TTL's REMOVE record makes the stream delete files) |
| uploads named by a submit / resubmit      | TransactGetItems UPLOAD#{id}… (with the submit context)     |
| OTP challenge                             | GetItem / conditional UpdateItem PK=OTP#{hash}              |
| e-mail confirmation code                  | PutItem if none this minute / GetItem / UpdateItem ADD      |
|                                           |          PK=OTP#{hash}, SK=EMAIL_CONFIRM                    |
| sign-in link of a status SMS              | PutItem if new / GetItem / conditional UpdateItem (used_at) |
|                                           |          PK=SIGNIN_LINK#{hmac of the link's secret}          |
| pending WhatsApp login (reverse OTP)      | PutItem if new / GetItem / conditional UpdateItem (proven,  |
|                                           |          refused, used) PK=WA_LOGIN#{hmac of its code}      |
| staff account (login)                     | GetItem  PK=STAFF#{username}                                |
| login throttle (per username, per client) | GetItem + UpdateItem if attempts unchanged                  |
|                                           |          PK=THROTTLE#login-user#{username} / login-ip#{ip}  |
| OTP counters (wrong guesses per NIK hash, | UpdateItem ADD count 1 if window open, else conditional put |
|   codes per phone/client per hour/day)    |          PK=THROTTLE#{kind}#{subject}                       |
| Open311 partner key (POST requests.json)  | GetItem  PK=OPEN311_KEY#{id} (the id the key carries)      |
| Open311 partner keys of a kabupaten       | Query    GSI1 GSI1PK=OPEN311_KEYS#{kabupaten}              |
| staff login audit                         | PutItem / Query PK=LOGIN_AUDIT#{username}, SK={iso}#{id}    |
| staff of a region by role (notifications) | Query    GSI1 GSI1PK=STAFF_IN#{region}, GSI1SK begins {role} |
| session check (every staff request)       | GetItem  PK=STAFF#{username} (active, session_version only)  |
| staff account change + its audit event    | TransactWriteItems: StaffItem update if version (or put if  |
|                                           |          new), StaffEventItem put                           |
| a staff account's audit history           | Query    PK=STAFF#{username}, SK begins EVENT#             |
| outbox row                                | GetItem / conditional UpdateItem PK=OUTBOX#{id}             |
| a village's outbox by status              | Query    GSI2 GSI2PK=OUTBOX_IN#{desa}#{status} (a row is    |
|                                           |          listed from its first outcome)                     |
| unfinished outbox rows due for a retry    | Query    GSI3 GSI3PK=OUTBOX_RETRY#{kabupaten}, GSI3SK <= now |
|                                           |          (keys only: the ids the sender then claims)        |
| claim / finish an outbox row              | conditional UpdateItem PK=OUTBOX#{id} (status, claim token); |
|                                           |          a finished row gets its TTL expires_at             |
| SLA checkpoint reached (reminder, escal.) | TransactWriteItems: request update if version, event put,  |
|                                           |          outbox put (deterministic id, if not exists)       |
| daily digest counts of a village          | Query    GSI2 GSI2PK=QUEUE#{desa}#{status} (open statuses)  |
| staff notification preferences           | GetItem / conditional UpdateItem PK=STAFF#{username}        |
| issue decision (approved -> issuing)      | the transition above; then SQS FIFO SendMessage, group=desa  |
| issue: letter number counter (read)       | GetItem  PK=COUNTER#{desa}#{ALL or type}#{year} (consistent) |
| issue commit (queue worker, one per desa) | TransactWriteItems: request issuing->issued if version,      |
|                                           |          event put, outbox puts, UpdateItem counter ADD seq 1 |
|                                           |          if seq=n (or absent), Put LETTER#{id} if new         |
| letter by id (verification, download)     | GetItem  PK=LETTER#{id}, SK=META                            |
| count a verification                      | UpdateItem PK=LETTER#{id} ADD verification_count 1          |
| revoke a letter                           | TransactWriteItems letter update if status=valid, request   |
|                                           |          version check + event put                          |
| letter download by staff (audit)          | PutItem  PK=REQ#{id}, SK=EVENT#{at}#{version}#{id} if new   |
| identity check (verify_identity)          | as a transition: request update with version check + event  |
| resident of a village (submit, staff)     | GetItem  PK=RESIDENT#{desa}, SK=NIK#{hash} (in the submit   |
|                                           |          TransactGetItems with village and profile)         |
| a village's residents by name, paginated  | Query    GSI1 GSI1PK=RESIDENTS_BY_NAME#{desa}               |
| the residents an import file names        | BatchGetItem PK=RESIDENT#{desa}, SK=NIK#{hash} (100 a call) |
| one resident's audit entries              | Query    PK=RESIDENT_HISTORY#{desa}#{hash}                  |
| a village's register audit, newest first  | Query    GSI1 GSI1PK=RESIDENT_AUDIT#{desa}                  |
| registers holding a NIK (login, profile)  | Query    GSI2 GSI2PK=RESIDENT_NIK#{hash}                    |
| add / edit residents (one, or an import)  | TransactWriteItems: resident put if absent / if version=n,  |
|                                           |          audit put; imports send 50 residents + 50 audits   |
| complaint filing context                  | TransactGetItems REGION#{desa}, COMPLAINT_CONFIG#{kab},     |
|                                           |          CITIZEN#{hash}/PROFILE, UPLOAD#{id}… (photos)      |
| file a complaint                          | TransactWriteItems complaint put if new, event put, daily    |
|                                           |          counter ADD if below the limit, idempotency put if  |
|                                           |          new, outbox puts                                   |
| complaint with its history                | Query    PK=COMPLAINT#{id}                                  |
| complaint transition / moderation         | Query PK=COMPLAINT#{id}, then TransactWriteItems: complaint |
|                                           |          update if version, event put, outbox puts          |
| a unit's complaint queue by status        | Query    GSI1 GSI1PK=CQUEUE#{desa or OPD#kab#opd}#{status}  |
| a village's public complaints, newest 1st | Query    GSI2 GSI2PK=CPUBLIC#{desa} (sparse)                |
| a citizen's complaints                    | Query    GSI3 GSI3PK=CITIZEN_COMPLAINTS#{hash} (keys only), |
|                                           |          then BatchGetItem of the page's complaints         |
| complaints by next SLA checkpoint         | Query    GSI4 GSI4PK=CDUE#{kabupaten}, GSI4SK <= {now}      |
|                                           |          (keys only), then BatchGetItem                     |
| complaint SLA checkpoint reached          | TransactWriteItems: complaint update if version, event put, |
|                                           |          outbox put (deterministic id, if not exists)       |
| a kabupaten's complaint categories, OPDs  | GetItem  PK=COMPLAINT_CONFIG#{kab}; PutItem if version      |
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from chalicelib.storage.table import BaseItem


class TTLItem(BaseItem):
    """Declares the TTL attribute; used to create the table (PynamoDB allows one TTL per model)."""

    expires_at = TTLAttribute(null=True)


class RegionItem(BaseItem):
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    level = UnicodeAttribute()
    parent = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=False)
    timezone = UnicodeAttribute(null=True)
    # Village-only settings, kept on the village item so submit needs one read.
    letter_types: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    settings: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    version = NumberAttribute(default=1)


class KabupatenRegistryItem(BaseItem):
    """The kabupaten imported into this table (one item): what the scheduled sweeps walk."""

    codes = UnicodeSetAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class CitizenItem(BaseItem):
    nik = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)  # given by the citizen for status messages (issue 14)
    email_verified_at = UnicodeAttribute(null=True)  # set when the citizen typed the code sent to that e-mail
    profile: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class CodeItem(BaseItem):
    """A six-digit code's hash with its tries, made time and expiry (the login code, the e-mail confirmation)."""

    code_hash = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    expires_at = TTLAttribute()


class OtpItem(CodeItem):
    phone = UnicodeAttribute()


class EmailCodeItem(CodeItem):
    """The code that confirms a citizen's e-mail (PK=OTP#{hash}, SK=EMAIL_CONFIRM): only its hash is kept."""

    email = UnicodeAttribute()


class ThrottleItem(BaseItem):
    """A rate counter: attempts in the current window, a lock, and the TTL that sweeps it."""

    hits = NumberAttribute(default=0)  # not "count": Model.count() is a PynamoDB classmethod
    window_ends = NumberAttribute(null=True)  # epoch seconds; the counter restarts after it
    locked_until = NumberAttribute(null=True)  # epoch seconds
    expires_at = TTLAttribute()


class LoginAuditItem(BaseItem):
    """One staff login attempt: outcome and client, kept for 90 days."""

    username = UnicodeAttribute()
    outcome = UnicodeAttribute()  # success, failure, throttled
    client_ip = UnicodeAttribute(null=True)
    at = UnicodeAttribute()
    expires_at = TTLAttribute()


class StaffItem(BaseItem):
    username = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    role = UnicodeAttribute()
    region = UnicodeAttribute()
    name = UnicodeAttribute()
    position = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    preferences: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    created_at = UnicodeAttribute()
    # Staff profile (issue 8.3): `name` is the full name, `position` the jabatan, `nip` 18 digits or absent.
    nip = UnicodeAttribute(null=True)
    # Raised by deactivation and every password change/reset; tokens carry it as `sv` (issue 8.9).
    session_version = NumberAttribute(default=1)
    version = NumberAttribute(default=1)
    updated_at = UnicodeAttribute(null=True)
    # Role `opd` only: the OPD's code within the kabupaten (issue 12.2).
    opd = UnicodeAttribute(null=True)


class StaffEventItem(BaseItem):
    """One audited change of a staff account (PK=STAFF#{username}, SK=EVENT#{at}#{version})."""

    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    actor_role = UnicodeAttribute()
    action = UnicodeAttribute()
    changes = UnicodeSetAttribute(null=True)
    version = NumberAttribute()


class RequestItem(BaseItem):
    # id, kecamatan and kabupaten are absent since 2026-12 when the key and the village code give them (codec.py).
    id = UnicodeAttribute(null=True)
    village = UnicodeAttribute()
    kecamatan = UnicodeAttribute(null=True)
    kabupaten = UnicodeAttribute(null=True)
    letter_type = UnicodeAttribute()
    letter_name = UnicodeAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute()
    tracking_code = UnicodeAttribute()
    nik_hash = UnicodeAttribute()
    contact_phone = UnicodeAttribute(null=True)
    signer_role = UnicodeAttribute(default="kades")
    fields: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    applicant: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    sla_hours = NumberAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    due_at = UnicodeAttribute()
    letter: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    # Attachments by name: {name: {label, filename, content_type, size, upload_id}}; `name` and a `file_key` derivable
    # from the upload are left out since 2026-12 (storage/codec.py), older items keep theirs.
    attachments: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    # SLA escalation state: {"for": due_at, "level": 0..3} (workers/sla.py); reset when due_at changes.
    sla: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    # The `issue` decision: signer as printed, decided_at (services/issuing.py); dropped when the letter is
    # issued since 2026-12 (the letter's document keeps the signer), older issued requests keep it.
    issue_order: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    # False when the NIK was not in the village's register at submission: approval waits for an operator's
    # in-person check, kept in identity_check {by, role, at, document, note}. Absent on older requests = False.
    identity_verified = BooleanAttribute(null=True)
    identity_check: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]


class ResidentItem(BaseItem):
    """One resident of a village's register (data penduduk); `nik` is stored, the key holds its hash."""

    village = UnicodeAttribute()
    nik = UnicodeAttribute()
    data: MapAttribute = MapAttribute()  # type: ignore[type-arg]
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class ResidentAuditItem(BaseItem):
    """Who changed a resident, when, how (import or by hand) and what: field -> {from, to}, never a NIK."""

    # In its keys (RESIDENT_HISTORY#{village}#{nik_hash}, {at}#{id}); stored only by entries written before issue 14
    village = UnicodeAttribute(null=True)
    nik_hash = UnicodeAttribute(null=True)
    nik_masked = UnicodeAttribute()
    at = UnicodeAttribute(null=True)
    actor = UnicodeAttribute()
    actor_role = UnicodeAttribute()
    action = UnicodeAttribute()
    source = UnicodeAttribute()
    changes: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    version = NumberAttribute()


class EventItem(BaseItem):
    # Its time and version are in its sort key (EVENT#{at}#{version:06d}[#{id}]): events written since issue 14
    # store neither again (kept for good, ~60 B an event); events written before carry both.
    at = UnicodeAttribute(null=True)
    actor = UnicodeAttribute()
    actor_role = UnicodeAttribute()
    action = UnicodeAttribute()
    from_status = UnicodeAttribute(null=True)
    to_status = UnicodeAttribute()
    note = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    # What else the event records (an identity check's document, a downloaded letter's number).
    details: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]


class TrackingItem(BaseItem):
    request_id = UnicodeAttribute()


class IdempotencyItem(BaseItem):
    request_id = UnicodeAttribute()
    payload_hash = UnicodeAttribute()
    expires_at = TTLAttribute()


class UploadItem(BaseItem):
    """A presigned attachment upload; the TTL removes it a day after, used or not. Its file lands at its final key:
    the submission that uses it marks it `used` (in its own transaction), and DynamoDB's TTL removing one still
    `unused` makes the stream handler delete its file (workers/retention.py). Items from before direct uploads have
    no state (their file is in the staging prefix, copied at submission, emptied by the bucket's lifecycle)."""

    id = UnicodeAttribute()
    owner = UnicodeAttribute()
    village = UnicodeAttribute()
    letter_type = UnicodeAttribute()
    attachment = UnicodeAttribute()
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    file_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = TTLAttribute()
    state = UnicodeAttribute(null=True)  # "unused", then "used" (None: an upload to the old staging prefix)
    used_by = UnicodeAttribute(null=True)  # the request or complaint that used it
    stored_size = NumberAttribute(null=True)  # what the submission checked
    stored_version = UnicodeAttribute(null=True)
    stored_etag = UnicodeAttribute(null=True)


class RetentionItem(BaseItem):
    """The files of a request that reached a final state, and when they may go: DynamoDB's TTL removes the item
    then, and the stream handler deletes the files (S3 DELETE requests are free; a tag per file was a PUT)."""

    request_id = UnicodeAttribute()
    village = UnicodeAttribute()
    file_keys = ListAttribute(of=UnicodeAttribute)  # type: ignore[var-annotated]
    delete_at = UnicodeAttribute()
    expires_at = TTLAttribute()


class OutboxItem(BaseItem):
    id = UnicodeAttribute()
    event = UnicodeAttribute()
    audience: MapAttribute = MapAttribute()  # type: ignore[type-arg]
    village = UnicodeAttribute()
    request_id = UnicodeAttribute(null=True)
    payload: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    # The further messages of the same change (storage/outbox.py `more_parts`): [{event, audience, payload: what
    # differs from the first's payload, omit: its keys this part lacks}]; absent on a one-part row.
    more = ListAttribute(null=True)  # type: ignore[var-annotated]
    status = UnicodeAttribute(default="pending")
    attempts = NumberAttribute(default=0)
    next_try_at = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)
    # Delivery state (workers/outbox.py): the sender holding the row and until when, the deliveries
    # ("{channel}:{recipient}", a later part's prefixed "{part}/") already handed to a provider, so no retry or
    # replay repeats them.
    kabupaten = UnicodeAttribute(null=True)
    claim = UnicodeAttribute(null=True)
    lease_until = UnicodeAttribute(null=True)
    delivered = UnicodeSetAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    # Set when the row is finished (sent or failed): BALAI_OUTBOX_RETENTION_DAYS later DynamoDB's TTL deletes
    # it; removed again by a resend. A pending or sending row has none and never expires.
    expires_at = TTLAttribute(null=True)


class LetterCounterItem(BaseItem):
    """The last number given in one numbering sequence (village, scope, local year)."""

    village = UnicodeAttribute()
    scope = UnicodeAttribute()
    year = NumberAttribute()
    seq = NumberAttribute(default=0)
    last_letter_id = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class LetterDocumentItem(BaseItem):
    """The printed part of letters shared by many (letterhead, texts, signer), content-addressed
    (PK=LETTER_DOC#{hash of the content}, SK=META): written once, never changed, read by key."""

    content: MapAttribute = MapAttribute()  # type: ignore[type-arg]


class LetterItem(BaseItem):
    """An issued letter: its number, signed facts, QR token and the snapshot it is (re)rendered from.

    `document` holds the letterhead, texts and signer as they were at issuing, so a regenerated PDF is
    byte-identical even after the village changes its settings; personal data stays in the request. Letters
    issued since 2026-12 hold `{"ref": hash, "issued_date": ...}`: the rest is the LetterDocumentItem `ref`
    names (storage/letters.py), the same for every letter of a village, type and signer.
    """

    id = UnicodeAttribute()
    request_id = UnicodeAttribute()
    village = UnicodeAttribute()
    kabupaten = UnicodeAttribute()
    letter_type = UnicodeAttribute()
    letter_name = UnicodeAttribute()
    number = UnicodeAttribute()
    seq = NumberAttribute()
    counter_scope = UnicodeAttribute()
    year = NumberAttribute()
    issued_at = UnicodeAttribute()
    facts: MapAttribute = MapAttribute()  # type: ignore[type-arg]
    token = UnicodeAttribute()
    # Absent since 2026-12 when derivable (storage/letters.py letter_item): older letters keep theirs.
    verify_url = UnicodeAttribute(null=True)
    file_key = UnicodeAttribute(null=True)
    document: MapAttribute = MapAttribute()  # type: ignore[type-arg]
    status = UnicodeAttribute(default="valid")
    revoked_at = UnicodeAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)
    verification_count = NumberAttribute(default=0)


class Open311KeyItem(BaseItem):
    """An Open311 partner's API key (PK=OPEN311_KEY#{id}, SK=META; GSI1 OPEN311_KEYS#{kabupaten}): only its
    SHA-256 is stored. Access: GetItem by the id the key carries (POST requests.json); Query GSI1 (admin list);
    conditional UpdateItem to revoke."""

    key_id = UnicodeAttribute()
    kabupaten = UnicodeAttribute()
    partner = UnicodeAttribute()
    key_hash = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)


class InboxMessageItem(BaseItem):
    """One message in a citizen's portal inbox (PK=INBOX#{hash}, SK=MSG#{time-ordered id})."""

    id = UnicodeAttribute()
    event = UnicodeAttribute()
    title = UnicodeAttribute()
    text = UnicodeAttribute()
    request_id = UnicodeAttribute(null=True)
    tracking_code = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    read_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)  # BALAI_INBOX_RETENTION_DAYS after the message (older ones: none)


class PushSubscriptionItem(BaseItem):
    """A Web Push subscription of a citizen's installed portal (PK=CITIZEN#{hash}, SK=PUSH#{id})."""

    id = UnicodeAttribute()
    endpoint = UnicodeAttribute()
    p256dh = UnicodeAttribute()
    auth = UnicodeAttribute()
    created_at = UnicodeAttribute()


class SessionItem(BaseItem):
    """A citizen's refresh session (PK=SESSION#{family}): only the hash of the current refresh token."""

    family = UnicodeAttribute()
    nik_hash = UnicodeAttribute()
    region = UnicodeAttribute()
    token_hash = UnicodeAttribute()
    generation = NumberAttribute(default=1)
    device = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    last_used_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


class SigninLinkItem(BaseItem):
    """A one-time sign-in link sent in a citizen's status SMS (PK=SIGNIN_LINK#{hmac of its secret}): the secret
    itself is never stored; bound to the citizen, the phone it was sent to and the request it announced."""

    nik_hash = UnicodeAttribute()
    phone = UnicodeAttribute()
    request_id = UnicodeAttribute()
    event = UnicodeAttribute()
    created_at = UnicodeAttribute()
    used_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


class WhatsappLoginItem(BaseItem):
    """A pending login by WhatsApp message (PK=WA_LOGIN#{hmac of its code}): the code and the browser's secret are
    never stored, only their HMACs. Proven once (the sender's phone), or refused once (a sender other than the
    phone typed at start), used once (the tokens); swept by TTL a few minutes after it is started."""

    secret_hash = UnicodeAttribute()
    nik_hash = UnicodeAttribute()
    nik = UnicodeAttribute()
    kabupaten = UnicodeAttribute()
    number = UnicodeAttribute()  # the business number it was shown with: only a message to it proves it
    phone = UnicodeAttribute(null=True)  # the phone typed at start (E.164), if any
    created_at = UnicodeAttribute()
    proven_phone = UnicodeAttribute(null=True)
    proven_at = UnicodeAttribute(null=True)
    refused = UnicodeAttribute(null=True)
    used_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


class MessagePolicyItem(BaseItem):
    """A kabupaten's overrides of the default message policy (PK=MESSAGE_POLICY#{kabupaten}, SK=META)."""

    events_json = UnicodeAttribute()  # {event: {"channels": [...], "sms": "..."}}, as validated when saved
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()
    version = NumberAttribute(default=1)


class BillItem(BaseItem):
    """A village's (or, for login codes, a kecamatan's) messages in one month, per channel: counts, billable
    units and cost in micro-USD, each kept by ADD in the write that records the sending."""

    region = UnicodeAttribute()
    month = UnicodeAttribute()
    counts: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]


class ComplaintItem(BaseItem):
    """A complaint or aspiration (PK=COMPLAINT#{id}, SK=META, entity "complaint"); its audit events are EventItems
    with entity "complaint_event" in the same partition. The transparency stream reads these attribute names."""

    id = UnicodeAttribute()
    village = UnicodeAttribute()
    kecamatan = UnicodeAttribute()
    kabupaten = UnicodeAttribute()
    village_name = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()
    category = UnicodeAttribute()
    category_name = UnicodeAttribute(null=True)
    title = UnicodeAttribute()
    text = UnicodeAttribute()
    lat = NumberAttribute(null=True)
    lon = NumberAttribute(null=True)
    photos = ListAttribute(null=True)  # type: ignore[var-annotated]  # [{id, content_type, size, hidden?}]
    public = BooleanAttribute(default=False)
    status = UnicodeAttribute()
    unit: MapAttribute = MapAttribute()  # type: ignore[type-arg]  # {"type": "village"|"opd", "code": ...}
    version = NumberAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    due_at = UnicodeAttribute()
    sla_hours = NumberAttribute()
    resolved_at = UnicodeAttribute(null=True)
    reopen_count = NumberAttribute(default=0)
    rating = NumberAttribute(null=True)
    rating_comment = UnicodeAttribute(null=True)
    hidden = BooleanAttribute(default=False)
    nik_hash = UnicodeAttribute()
    reporter: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]
    contact_phone = UnicodeAttribute(null=True)
    sla: MapAttribute = MapAttribute(null=True)  # type: ignore[type-arg]


class ComplaintConfigItem(BaseItem):
    """A kabupaten's OPDs [{code, name}] and complaint categories [{code, name, routes_to, sla_hours}]."""

    kabupaten = UnicodeAttribute()
    opds = ListAttribute(null=True)  # type: ignore[var-annotated]
    categories = ListAttribute(null=True)  # type: ignore[var-annotated]
    version = NumberAttribute(default=1)
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
