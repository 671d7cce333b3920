"""Pydantic request and response models: they validate input and generate /openapi.json.

Imported on first use only (see api.http.parse): building these models costs ~65 ms.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from pydantic_core import PydanticCustomError

from chalicelib.domain.inputs import find_forbidden_char, is_person_name


def _person_name(value: str) -> str:
    if not is_person_name(value):
        raise PydanticCustomError(
            "invalid_name", "Nama hanya boleh berisi huruf Latin (boleh beraksen), spasi, titik, koma, "
            "apostrof dan tanda hubung, seperti pada KTP.")
    return value


def _single_line(value: str) -> str:
    if find_forbidden_char(value, multiline=False) is not None:
        raise PydanticCustomError(
            "invalid_text", "Isian ini satu baris: tanpa baris baru, tab atau karakter kontrol.")
    return value


# A KTP name (Latin letters incl. accents, space . , ' -): no digits, emoji, control or bidi characters.
PersonName = Annotated[StrictStr, AfterValidator(_person_name)]
# One line of free text: every free text already refuses control and bidi characters (api.http's JSON
# check); single-line fields refuse line breaks and tabs too.
SingleLine = Annotated[StrictStr, AfterValidator(_single_line)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# ---- input -------------------------------------------------------------------------------
class StaffLogin(_In):
    username: StrictStr = Field(min_length=1, max_length=64)
    password: StrictStr = Field(min_length=1, max_length=200)


class OtpRequest(_In):
    nik: StrictStr = Field(description="16-digit NIK", examples=["7307034107900001"])
    phone: StrictStr = Field(description="Mobile number, 08… or +628…", examples=["081234567890"])


class OtpSend(OtpRequest):
    via: Literal["sms", "email"] | None = Field(
        default=None, description="Where the code goes: by default the confirmed e-mail of a returning citizen "
        "(this phone already proven), else SMS; \"sms\" asks for SMS anyway")


class OtpVerify(OtpRequest):
    code: StrictStr = Field(description="Six-digit code from the SMS")
    remember: StrictBool = Field(default=True, description="Stay logged in on this device (a refresh token, "
                                 "30 days); false on a shared device")


class SubmitRequest(_In):
    letter_type: StrictStr = Field(max_length=16, pattern=r"^[A-Za-z0-9_-]{1,16}$", examples=["SKD"])
    fields: dict[str, Any] = Field(description="Values of the letter type's fields")
    attachments: dict[str, StrictStr] | None = Field(
        default=None, description="Attachment name -> upload_id of a finished upload (POST …/uploads)",
        examples=[{"ktp": "01JD0000000000000000000000"}])


class TransitionRequest(_In):
    action: Literal["review", "request_revision", "resubmit", "approve", "reject", "issue", "cancel",
                    "verify_identity"]
    version: StrictInt = Field(ge=1, description="The version the client last saw")
    note: StrictStr | None = Field(default=None, max_length=1000)
    fields: dict[str, Any] | None = Field(default=None, description="Corrected values (resubmit only)")
    attachments: dict[str, StrictStr] | None = Field(
        default=None, description="Replacement attachments, name -> upload_id (resubmit only)")
    document: Literal["KTP-el", "KK", "Akta Kelahiran", "Surat Keterangan Kependudukan", "Paspor"] | None = Field(
        default=None, description="verify_identity only: the document the operator checked in person")


class UploadRequest(_In):
    letter_type: StrictStr = Field(max_length=16, examples=["SKD"])
    attachment: StrictStr = Field(max_length=64, description="The letter type's attachment name", examples=["ktp"])
    filename: StrictStr = Field(min_length=1, max_length=255, examples=["ktp.jpg"])
    content_type: Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]
    size: StrictInt = Field(ge=1, description="File size in bytes (at most max_bytes)")


class ProfileUpdate(_In):
    version: StrictInt = Field(ge=1)
    name: PersonName = Field(min_length=1, max_length=120)
    birth_place: SingleLine = Field(min_length=1, max_length=80)
    birth_date: date = Field(strict=False)
    sex: Literal["L", "P"]
    religion: Literal["Islam", "Kristen", "Katolik", "Hindu", "Buddha", "Khonghucu", "Kepercayaan"]
    marital_status: Literal["Belum Kawin", "Kawin", "Cerai Hidup", "Cerai Mati"]
    occupation: SingleLine = Field(min_length=1, max_length=80)
    address: SingleLine = Field(min_length=1, max_length=200)
    # ASCII classes: pydantic's regex engine reads \d as any Unicode digit.
    rt: StrictStr | None = Field(default=None, pattern=r"^[0-9]{1,3}$")
    rw: StrictStr | None = Field(default=None, pattern=r"^[0-9]{1,3}$")
    kk_number: StrictStr | None = Field(default=None, pattern=r"^[0-9]{16}$")


_RESIDENT_FIELDS_DOC = ("Codes as in OpenSID or Balai's labels: sex 1/2 or L/P; religion 1-7 or Islam…; "
                        "marital_status 1-4 or Kawin…; occupation 1-89 or its name")


class ResidentFields(_In):
    kk_number: StrictStr | None = Field(default=None, max_length=16, examples=["7307030101200001"])
    name: StrictStr | None = Field(default=None, max_length=120, examples=["Nurhaedah"])
    birth_place: StrictStr | None = Field(default=None, max_length=80)
    birth_date: StrictStr | None = Field(default=None, max_length=10, examples=["1990-08-17"])
    sex: StrictStr | None = Field(default=None, max_length=20, examples=["P"])
    religion: StrictStr | None = Field(default=None, max_length=40, examples=["Islam"])
    marital_status: StrictStr | None = Field(default=None, max_length=20, examples=["Kawin"])
    occupation: StrictStr | None = Field(default=None, max_length=80, examples=["Wiraswasta"])
    address: StrictStr | None = Field(default=None, max_length=200)
    dusun: StrictStr | None = Field(default=None, max_length=80)
    rt: StrictStr | None = Field(default=None, max_length=3, examples=["001"])
    rw: StrictStr | None = Field(default=None, max_length=3, examples=["002"])
    phone: StrictStr | None = Field(default=None, max_length=32, description="Mobile number; the only phone the "
                                    "NIK can log in with")


class ResidentCreate(ResidentFields):
    """A new resident: NIK, name and KK number required. """ + _RESIDENT_FIELDS_DOC + "."

    nik: StrictStr = Field(min_length=16, max_length=16, examples=["7307035708900002"])
    name: StrictStr = Field(min_length=1, max_length=120)
    kk_number: StrictStr = Field(min_length=16, max_length=16)


class ResidentUpdate(ResidentFields):
    """Changed fields only; null clears one (not the name or KK number)."""

    version: StrictInt = Field(ge=1, description="The resident's version the client last saw")


class LetterTypeAdjust(_In):
    version: StrictInt = Field(ge=1, description="The village's settings version")
    enabled: StrictBool | None = None
    sla_hours: StrictInt | None = Field(default=None, ge=1, le=240)
    classification: SingleLine | None = Field(default=None, max_length=40)
    signer_role: Literal["kades", "operator"] | None = None
    body_template: StrictStr | None = None


class VillageActivation(_In):
    active: StrictBool


# ---- output ------------------------------------------------------------------------------
class Error(_Out):
    code: str = Field(examples=["invalid_nik"])
    message: str
    details: dict[str, Any] | None = None


class RegionChild(_Out):
    code: str
    name: str
    level: Literal["provinsi", "kabupaten", "kecamatan", "desa", "kelurahan"]
    active: bool


class Region(RegionChild):
    parent: str | None
    timezone: str
    timezone_label: str
    children: list[RegionChild]
    siblings: list[RegionChild] | None = None


class FieldSchema(_Out):
    name: str
    label: str
    type: Literal["string", "text", "integer", "date", "enum", "boolean"]
    required: bool
    options: list[str] | None = None
    max_length: int | None = None


class Attachment(_Out):
    name: str
    label: str
    required: bool
    photo_max_px: int = Field(description="the longest side the portal shrinks a photo of it to, in pixels")


class LetterType(_Out):
    code: str
    name: str
    title: str
    classification: str
    sla_hours: int
    signer_role: str
    enabled: bool
    fields: list[FieldSchema]
    attachments: list[Attachment]


class LetterTypeList(_Out):
    village: str
    active: bool
    version: int = Field(description="The village's settings version, for PUT .../letter-types/{code}")
    items: list[LetterType]


class LetterTypeAdjusted(LetterType):
    body_template: str
    village_version: int


class Token(_Out):
    token: str
    expires_in: int
    role: Literal["citizen", "operator", "kades", "camat", "opd", "admin"]
    region: str
    refresh_token: str | None = Field(default=None, description="Citizens only: trade it at /v1/auth/refresh")
    region_info: dict[str, str] | None = Field(default=None, description="Staff only: the account's region "
                                               "(code, name, level, timezone), so the console needs no region call")
    profile_complete: bool | None = Field(default=None, description="A citizen's login code only: the applicant "
                                          "data every letter needs is complete (the portal then skips the profile "
                                          "read before a new request); `region` is the NIK's kecamatan")
    has_requests: bool | None = Field(default=None, description="A citizen's login code only: she has asked for "
                                      "a letter before (the portal opens her list, else the form)")


class OtpSent(_Out):
    sent: bool
    expires_in: int
    phone: str = Field(description="Masked phone number")
    via: Literal["sms", "email"] = Field(description="Where the code went")
    email: str | None = Field(default=None, description="Masked e-mail, when the code went by e-mail")


class HistoryEntry(_Out):
    at: str
    actor: str
    actor_role: str
    action: str
    from_: str | None = Field(default=None, alias="from")
    to: str
    note: str | None
    version: int


class LetterRef(_Out):
    number: str | None = None
    issued_at: str | None = None
    download: dict[str, Any] | None = Field(default=None, description="Its owner only, once issued: the PDF's "
                                            "short-lived link (as GET .../letter answers it)")


class RequestAttachment(_Out):
    name: str
    label: str
    filename: str
    content_type: str
    size: int


class IdentityCheck(_Out):
    by: str
    username: str
    role: str
    at: str
    document: str
    note: str | None


class ServiceRequest(_Out):
    identity_verified: bool = Field(description="False: the NIK was not in the village's register at submission "
                                    "and no in-person check is recorded yet; approval is refused until one is")
    identity_check: IdentityCheck | None = None
    id: str
    village: str
    letter_type: str
    letter_name: str
    signer_role: str | None = Field(default=None, description="Who issues this letter type in the village")
    field_labels: dict[str, str] = Field(default_factory=dict,
                                         description="Each field's label, to show `fields` under their names")
    status: Literal["submitted", "in_review", "needs_revision", "approved", "issuing", "issued", "rejected",
                    "cancelled"]
    version: int
    tracking_code: str
    fields: dict[str, Any]
    applicant: dict[str, Any]
    created_at: str
    updated_at: str
    due_at: str
    sla_hours: int
    history: list[HistoryEntry]
    letter: LetterRef | None
    attachments: list[RequestAttachment] = []


class UploadForm(_Out):
    upload_id: str
    method: Literal["POST"]
    url: str = Field(description="Where the browser POSTs the multipart/form-data form (S3, or the local store)")
    fields: dict[str, str] = Field(description="Form fields to send first, each as-is; the `file` part goes last")
    expires_in: int
    max_bytes: int


class AttachmentLink(_Out):
    url: str = Field(description="Short-lived link to view the file")
    expires_in: int
    name: str
    filename: str
    content_type: str


class AttachmentLinkItem(_Out):
    name: str
    label: str
    url: str | None = Field(default=None, description="Short-lived link; absent when `expired`")
    filename: str | None = None
    content_type: str | None = None
    expires_in: int | None = None
    expired: bool | None = Field(default=None, description="True: deleted under the retention rule")
    deleted_at: str | None = None
    message: str | None = None


class AttachmentLinks(_Out):
    items: list[AttachmentLinkItem]
    expires_in: int


class ServiceRequestList(_Out):
    items: list[ServiceRequest]
    next: str | None


class TrackingStep(_Out):
    at: str
    to: str


class Tracking(_Out):
    tracking_code: str
    letter_type: str
    letter_name: str
    village: str
    status: str
    created_at: str
    updated_at: str
    due_at: str
    history: list[TrackingStep]
    letter: LetterRef | None


class ProfileRegister(_Out):
    village: str
    locked_fields: list[str] = Field(description="Fields the register holds: only the village office changes them")
    updated_at: str


class Profile(_Out):
    nik: str
    phone: str | None
    version: int
    complete: bool
    in_register: bool = Field(description="The NIK is in a village's resident register (data penduduk)")
    register_entry: ProfileRegister | None = None
    name: str | None = None
    birth_place: str | None = None
    birth_date: str | None = None
    sex: str | None = None
    religion: str | None = None
    marital_status: str | None = None
    occupation: str | None = None
    address: str | None = None
    rt: str | None = None
    rw: str | None = None
    kk_number: str | None = None


class Resident(_Out):
    id: str = Field(description="The resident's key: a keyed hash of the NIK")
    village: str
    nik: str = Field(description="Masked for camat and admin")
    kk_number: str | None = Field(description="Masked for camat and admin")
    name: str | None
    birth_place: str | None
    birth_date: str | None
    sex: Literal["L", "P"] | None
    religion: str | None
    marital_status: str | None
    occupation: str | None
    address: str | None
    dusun: str | None
    rt: str | None
    rw: str | None
    phone: str | None = Field(description="E.164; masked for camat and admin")
    version: int
    created_at: str
    updated_at: str
    updated_by: str


class ResidentAudit(_Out):
    at: str
    actor: str
    actor_role: str
    action: Literal["create", "update"]
    source: Literal["import", "manual", "seed"]
    changes: dict[str, Any] = Field(description="field -> {from, to}; phones masked, KK masked for camat/admin")
    version: int
    nik: str = Field(description="Masked NIK")


class ResidentDetail(Resident):
    history: list[ResidentAudit]


class ResidentList(_Out):
    items: list[Resident]
    next: str | None


class ImportProblem(_Out):
    row: int = Field(description="Row number in the spreadsheet (the header is row 1)")
    column: str
    reason: str


class ResidentImport(_Out):
    village: str
    format: Literal["csv", "xlsx"]
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    skipped: list[ImportProblem]
    failed: list[ImportProblem]


# ---- letters -----------------------------------------------------------------------------
class LetterSettingsUpdate(_In):
    version: StrictInt = Field(ge=1, description="The village's settings version")
    number_format: StrictStr | None = Field(
        default=None, max_length=120, examples=["{classification}/{seq:03}/{village_code}/{roman_month}/{year}"],
        description="Placeholders: classification, seq, village_code, roman_month, month, year, letter_type")
    sequence_mode: Literal["village", "per_type"] | None = Field(
        default=None, description="One sequence for all letters, or one per letter type (needs {letter_type})")
    paper: Literal["A4", "F4"] | None = None
    address: SingleLine | None = Field(default=None, max_length=200, description="Office street address on the kop",
                                      examples=["Jl. Persatuan Raya No. 1"])
    postcode: SingleLine | None = Field(default=None, max_length=5, examples=["92671"])
    phone: SingleLine | None = Field(default=None, max_length=30, examples=["(0482) 21234"])
    email: SingleLine | None = Field(default=None, max_length=254, examples=["kel.samataring@sinjaikab.go.id"])
    website: SingleLine | None = Field(default=None, max_length=200, examples=["samataring.sinjaikab.go.id"])


class LetterSettings(_Out):
    village: str
    version: int
    number_format: str
    sequence_mode: Literal["village", "per_type"]
    paper: Literal["A4", "F4"]
    address: str | None
    postcode: str | None
    phone: str | None
    email: str | None
    website: str | None
    logo_key: str | None = Field(description="The lambang on the kop (PUT /v1/villages/{desa}/letter-settings/logo)")
    kop_address: str = Field(description="The address lines the kop surat prints")
    signer: str = Field(description="Who signs: always the issuing staff member's profile (name, jabatan, NIP)")
    default_signer_position: str


class LogoUploaded(_Out):
    village: str
    version: int
    logo_key: str
    content_type: Literal["image/png", "image/jpeg"] = Field(description="What was uploaded")
    stored_type: Literal["image/jpeg"] = Field(description="Stored shrunk, on white, as JPEG (cheap to embed)")
    width: int
    height: int
    bytes: int


class LetterRevocation(_In):
    reason: StrictStr = Field(min_length=5, max_length=500)


class LetterRevoked(_Out):
    letter_id: str
    number: str
    status: Literal["revoked"]
    revoked_at: str
    revoked_reason: str
    request_version: int


class LetterLink(_Out):
    url: str = Field(description="Short-lived download link (S3 presigned, or a signed local link)")
    expires_in: int
    number: str
    letter_id: str
    issued_at: str
    status: Literal["valid", "revoked"]
    verify_url: str


class LetterVerification(_Out):
    status: Literal["valid", "revoked", "forged", "unknown"]
    message: str
    letter_id: str | None = None
    number: str | None = None
    letter_type: str | None = None
    letter_name: str | None = None
    village: str | None = None
    village_name: str | None = None
    issued_date: str | None = None
    signer_name: str | None = None
    signer_position: str | None = None
    applicant: str | None = Field(default=None, description="Masked applicant name")
    verification_count: int | None = None
    revoked_at: str | None = None
    revoked_reason: str | None = None


class PublicKey(_Out):
    kid: str
    alg: str
    public_key: str = Field(description="Raw 32-byte Ed25519 key, base64url")
    pem: str
    active: bool


class PublicKeys(_Out):
    alg: str
    keys: list[PublicKey]
    token_format: str


# ---- notifications ------------------------------------------------------------------------
class QuietHours(_In):
    start: StrictStr = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["21:00"],
                             description="Local time of the kabupaten (WIB/WITA/WIT)")
    end: StrictStr = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["06:00"])


class NotificationPreferencesUpdate(_In):
    channels: list[Literal["sms", "email"]] = Field(min_length=1, max_length=2, examples=[["sms", "email"]])
    quiet_hours: QuietHours | None = Field(default=None, description="No messages in this period (OTPs are "
                                           "not notifications); they are sent when it ends")
    phone: StrictStr | None = Field(default=None, max_length=32, description="Mobile number, 08… or +628…")
    email: SingleLine | None = Field(default=None, max_length=254)
    mode: Literal["each", "digest_only"] | None = Field(
        default=None, description="each: one message per event; digest_only: new requests, signatures and SLA "
        "reminders only in the daily digest (escalations still come at once)")


class NotificationPreferences(_Out):
    channels: list[Literal["sms", "email"]]
    quiet_hours: dict[str, str] | None
    phone: str | None
    email: str | None
    mode: Literal["each", "digest_only"]
    timezone: str
    timezone_label: str


class NotificationMessage(_Out):
    event: str
    audience: dict[str, Any] = Field(description="citizen (phone masked) or staff {region, role}")


class Notification(_Out):
    id: str
    event: str = Field(description="The first message's event (see `messages`)")
    status: Literal["pending", "sending", "sent", "failed"]
    list_status: Literal["pending", "sent", "failed"]
    attempts: int
    next_try_at: str | None
    last_error: str | None
    created_at: str
    updated_at: str | None
    sent_at: str | None
    village: str
    request_id: str | None
    tracking_code: str | None
    audience: dict[str, Any] = Field(description="The first message's audience: citizen (phone masked) or staff "
                                                 "{region, role}")
    messages: list[NotificationMessage] = Field(description="Every message of the change, in the order sent: a "
                                                "submission tells the citizen and the operators")
    delivered: list[str] = Field(description="Deliveries made, as channel:recipient; a later message's "
                                             "prefixed by its position in `messages` (1/email:operator1)")


class NotificationList(_Out):
    items: list[Notification]
    next: str | None


# ---- staff accounts ------------------------------------------------------------------------
StaffRole = Literal["admin", "opd", "camat", "operator", "kades"]


class StaffCreate(_In):
    username: StrictStr = Field(min_length=3, max_length=64, examples=["operator2.73.07.03.1001"],
                                description="Lower-case ASCII letters, digits and . _ -")
    password: StrictStr = Field(min_length=10, max_length=200, description="At least 10 characters")
    role: StaffRole = Field(description="admin/opd at a kabupaten, camat at a kecamatan, operator/kades at a "
                                        "desa/kelurahan; a camat creates only operator and kades accounts")
    name: StrictStr = Field(min_length=2, max_length=120, description="Full name as on the KTP, with titles",
                            examples=["Andi Nurhaedah, S.Sos."])
    position: StrictStr = Field(min_length=2, max_length=120, description="Jabatan, printed under the signature",
                                examples=["Kepala Desa Pulau Harapan"])
    nip: StrictStr | None = Field(default=None, max_length=24, description="18-digit NIP, where the person has one",
                                  examples=["198204152009011004"])
    opd: StrictStr | None = Field(default=None, max_length=32, examples=["dpupr"],
                                  description="Role opd only: the OPD's code in the kabupaten's complaint categories")


class StaffUpdate(_In):
    version: StrictInt = Field(ge=1, description="The account's version")
    name: StrictStr | None = Field(default=None, min_length=2, max_length=120)
    position: StrictStr | None = Field(default=None, min_length=2, max_length=120)
    nip: StrictStr | None = Field(default=None, max_length=24, description="null or \"\" removes it")
    active: StrictBool | None = Field(default=None, description="false disables the account and ends its sessions")


class StaffProfileUpdate(_In):
    version: StrictInt = Field(ge=1, description="The account's version")
    name: StrictStr | None = Field(default=None, min_length=2, max_length=120)
    position: StrictStr | None = Field(default=None, min_length=2, max_length=120)


class PasswordChange(_In):
    current_password: StrictStr = Field(min_length=1, max_length=200)
    new_password: StrictStr = Field(min_length=10, max_length=200)


class StaffEvent(_Out):
    at: str
    actor: str
    actor_role: str
    action: Literal["create", "update_profile", "disable", "enable", "password_reset", "password_change"]
    changes: list[str]
    version: int


class StaffAccount(_Out):
    username: str
    role: StaffRole
    region: str
    name: str
    position: str | None
    nip: str | None
    active: bool
    version: int
    opd: str | None = Field(default=None, description="Role opd only: the OPD's code")
    history: list[StaffEvent] | None = None


class StaffList(_Out):
    region: str
    items: list[StaffAccount]
    next: str | None


class PasswordReset(_Out):
    username: str
    temporary_password: str = Field(description="Shown once; give it to the person directly")
    message: str


class PasswordChanged(_Out):
    changed: bool
    token: str = Field(description="A fresh token: every earlier session of the account has ended")
    expires_in: int
    role: str
    region: str


# ---- transparency (issue 13) ----------------------------------------------------------------------
class StatsFigures(_Out):
    requests: int
    requests_by_type: dict[str, dict[str, int]]
    letters_issued: int
    issued_within_sla: int
    share_within_sla: float | None
    median_hours_to_issue: float | None
    p90_hours_to_issue: float | None
    revisions: int
    rejections: int
    complaints_opened: int
    complaints_resolved: int
    complaints_reopened: int
    median_hours_to_resolve: float | None
    mean_rating: float | None
    ratings: int


class StatsMonth(StatsFigures):
    month: str


class StatsChild(StatsFigures):
    code: str
    name: str
    level: str
    active: bool


class RegionStats(_Out):
    region: RegionChild
    totals: StatsFigures
    months: list[StatsMonth]
    children: list[StatsChild]
    method: dict[str, Any]
    from_: str = Field(alias="from")
    to: str


class StatsExport(_Out):
    region: RegionChild
    columns: list[str]
    rows: list[dict[str, Any]]
    licence: str
    attribution: str


class DistrictView(_Out):
    region: RegionChild
    totals: dict[str, Any]
    by_share_within_sla: list[dict[str, Any]]
    by_backlog: list[dict[str, Any]]
    kecamatan: list[dict[str, Any]]
    overdue: list[dict[str, Any]]
    overdue_total: int
# ---- messages (issue 14) ---------------------------------------------------------------------
class RefreshTokenBody(_In):
    refresh_token: StrictStr = Field(max_length=200, description="rt1.… as given at login or the last refresh")


class LoggedOut(_Out):
    logged_out: bool


class SigninLinkRedeem(_In):
    token: StrictStr = Field(max_length=64, description="The secret after #masuk/ in the link of a status SMS")
    remember: StrictBool = Field(default=True, description="Stay logged in on this device (a refresh token)")


class WhatsappStart(_In):
    nik: StrictStr = Field(description="16-digit NIK", examples=["7307034107900001"])
    phone: StrictStr | None = Field(default=None, description="The mobile number the citizen typed (08… or "
                                    "+628…): only a message from its WhatsApp proves the login")


class WhatsappVerify(_In):
    login_id: StrictStr = Field(max_length=64, description="The login_id of the start answer (only this browser "
                                "holds it)")
    remember: StrictBool = Field(default=True, description="Stay logged in on this device (a refresh token)")


class WhatsappAvailability(_Out):
    available: bool


class WhatsappStarted(_Out):
    login_id: str = Field(description="Secret: send it to /v1/auth/whatsapp/verify")
    code: str = Field(description="The code the message carries, e.g. K7QX-3M9P")
    text: str = Field(description="The message WhatsApp opens with")
    link: str = Field(description="https://wa.me/<number>?text=<the message>")
    number: str = Field(description="The kabupaten's WhatsApp Business number (+62…)")
    expires_in: int
    expires_at: str


class WhatsappDelivery(_Out):
    received: int = Field(description="Text messages in the delivery")
    proven: int = Field(description="Logins this delivery proved")


class SigninLinkToken(Token):
    request_id: str = Field(description="The request the SMS was about: the portal opens it")


class Device(_Out):
    id: str
    device: str
    created_at: str
    last_used_at: str
    expires_at: str
    active: bool
    revoked_reason: str | None


class DeviceList(_Out):
    items: list[Device]
    next: str | None


class InboxMessage(_Out):
    id: str
    event: str
    title: str
    text: str
    created_at: str
    read: bool
    read_at: str | None
    request_id: str | None
    tracking_code: str | None


class Inbox(_Out):
    items: list[InboxMessage]
    next: str | None
    unread: int


class CitizenContactUpdate(_In):
    email: SingleLine | None = Field(default=None, max_length=254, description="null removes it")


class CitizenContact(_Out):
    email: str | None
    email_verified: bool = Field(default=False, description="The citizen typed the code sent to this e-mail: "
                                 "login codes may then go there instead of by SMS")
    confirmation_sent: bool = Field(default=False, description="A confirmation code was just e-mailed")


class CitizenEmailConfirm(_In):
    code: StrictStr = Field(description="Six-digit code from the confirmation e-mail")


class PushKeys(_In):
    p256dh: StrictStr = Field(max_length=200, description="The subscription's P-256 public key, base64url")
    auth: StrictStr = Field(max_length=100, description="The subscription's 16-byte auth secret, base64url")


class PushSubscriptionIn(_In):
    endpoint: StrictStr = Field(max_length=1024, description="The push service URL (https in the cloud)")
    keys: PushKeys
    expirationTime: int | None = Field(default=None, description="Ignored (PushSubscription.toJSON())")  # noqa: N815


class PushSubscriptionDelete(_In):
    endpoint: StrictStr = Field(max_length=1024)


class PushSubscribed(_Out):
    id: str
    created_at: str


class VapidPublicKey(_Out):
    public_key: str


class MessagePolicyUpdate(_In):
    events: dict[str, dict[str, Any]] = Field(
        description="Per event: channels (a subset of the default) and sms (always for otp; fallback or never "
        "for citizens)", examples=[{"issued": {"sms": "never"}}])


class MessagePolicy(_Out):
    kabupaten: str
    events: dict[str, Any]
    overrides: dict[str, Any]


class MessageBill(_Out):
    region: str
    month: str
    lines: list[dict[str, Any]]
    totals: dict[str, Any]
    total_usd: float
# ---- complaints and aspirations (issue 12) ------------------------------------------------------------------------
# Lengths, location bounds and photo counts are checked by the service, so each answers with its own code.
class ComplaintFile(_In):
    kind: Literal["complaint", "aspiration"]
    category: StrictStr = Field(max_length=32, examples=["jalan_jembatan"])
    title: StrictStr = Field(description="One line, 5–150 characters", examples=["Jalan poros berlubang"])
    text: StrictStr = Field(description="10–4 000 characters; line breaks allowed")
    lat: float | None = Field(default=None, description="Latitude inside Indonesia (with lon)", examples=[-5.1236])
    lon: float | None = Field(default=None, description="Longitude inside Indonesia (with lat)", examples=[120.2531])
    photos: list[StrictStr] | None = Field(default=None, description="Up to 3 upload ids of finished photo uploads")
    public: StrictBool = Field(default=False, description="Visible to everyone (without name or NIK)")


class ComplaintUnitRef(_In):
    type: Literal["village", "opd"]
    code: StrictStr | None = Field(default=None, max_length=32, description="The OPD's code (type opd)")


class ComplaintTransition(_In):
    action: Literal["acknowledge", "start", "resolve", "close", "reject", "reopen", "rate", "reroute", "hide",
                    "redact"]
    version: StrictInt = Field(ge=1, description="The version the client last saw")
    note: StrictStr | None = Field(default=None, description="Note or reason (≤ 1 000); the comment of `rate`")
    rating: StrictInt | None = Field(default=None, description="rate only: 1–5")
    unit: ComplaintUnitRef | None = Field(default=None, description="reroute only: the new unit")
    target: StrictStr | None = Field(default=None, max_length=64,
                                     description="redact only: \"text\", \"title\" or \"photo:<id>\"")


class PhotoUploadRequest(_In):
    filename: StrictStr = Field(min_length=1, max_length=255, examples=["jalan.jpg"])
    content_type: StrictStr = Field(max_length=100, description="image/jpeg, image/png or image/webp",
                              examples=["image/webp"])
    size: StrictInt = Field(ge=1, description="File size in bytes (at most max_bytes)")


class ComplaintConfigUpdate(_In):
    opds: list[dict[str, Any]] = Field(description="[{code, name}]")
    categories: list[dict[str, Any]] = Field(description="[{code, name, routes_to: village | opd:<code>, sla_hours}]")
    version: StrictInt = Field(ge=0, description="The stored version (0 to create)")


class ComplaintUnit(_Out):
    type: str
    code: str
    name: str | None = None


class ComplaintPhoto(_Out):
    id: str
    content_type: str
    size: int
    hidden: bool | None = None


class Complaint(_Out):
    id: str
    reference: str
    village: str
    village_name: str
    kecamatan: str
    kabupaten: str
    kind: str
    category: str
    category_name: str
    title: str
    text: str
    lat: float | None
    lon: float | None
    photos: list[ComplaintPhoto]
    status: str
    unit: ComplaintUnit
    created_at: str
    updated_at: str
    resolved_at: str | None
    reopen_count: int
    rating: int | None
    history: list[dict[str, Any]]
    public: bool | None = Field(default=None, description="Owner and staff only")
    hidden: bool | None = Field(default=None, description="Owner and staff only")
    version: int | None = Field(default=None, description="Owner and staff only")
    due_at: str | None = Field(default=None, description="Owner and staff only")
    reporter: dict[str, Any] | None = Field(default=None, description="Staff only: name, masked NIK")


class ComplaintList(_Out):
    items: list[Complaint]
    next: str | None


class ComplaintOpd(_Out):
    code: str
    name: str


class ComplaintCategory(_Out):
    code: str
    name: str
    routes_to: str
    sla_hours: int


class ComplaintConfig(_Out):
    kabupaten: str
    opds: list[ComplaintOpd]
    categories: list[ComplaintCategory]
    version: int
    updated_at: str | None


class PhotoLink(_Out):
    url: str
    expires_in: int
    content_type: str


# ---- Open311 partner keys -------------------------------------------------------------------------------
class Open311KeyCreate(_In):
    partner: SingleLine = Field(min_length=2, max_length=80, examples=["Aplikasi Lapor Sinjai"])


class Open311Key(_Out):
    id: str
    kabupaten: str
    partner: str
    active: bool
    created_at: str
    created_by: str
    revoked_at: str | None
    revoked_by: str | None


class Open311KeyIssued(Open311Key):
    api_key: str = Field(description="Shown once: Balai keeps only its SHA-256")


class Open311KeyList(_Out):
    items: list[Open311Key]
    next: str | None
