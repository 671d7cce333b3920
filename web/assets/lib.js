// Shared helpers of every Balai page: configuration, API calls, a tiny DOM builder, labels, dates.
const CONFIG_KEY = "balai.config";

let configPromise = null;

/** The front end's configuration (/config.json), remembered for offline use. */
export function loadConfig() {
  if (!configPromise) {
    configPromise = fetch("/config.json", { cache: "no-cache" })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("config"))))
      .then((cfg) => {
        localStorage.setItem(CONFIG_KEY, JSON.stringify(cfg));
        return cfg;
      })
      .catch(() => JSON.parse(localStorage.getItem(CONFIG_KEY) || '{"apiBase": ""}'));
  }
  return configPromise;
}

/** Raised when the network is unreachable (offline, DNS, connection reset): the caller may retry later. */
export class NetworkError extends Error {}

/** Whether the last call reached the server. navigator.onLine only says a network is there: a phone on a cell with
 * no data, or behind a captive Wi-Fi, is "online" while every call fails, so pages also listen for "balai:reachable". */
export let serverReachable = true;

function reached(ok) {
  if (ok === serverReachable) return;
  serverReachable = ok;
  window.dispatchEvent(new CustomEvent("balai:reachable", { detail: ok }));
}

/** Raised for an API error answer: {code, message, details} with the HTTP status. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `Kesalahan ${status}`);
    this.status = status;
    this.code = (body && body.code) || "error";
    this.details = (body && body.details) || null;
  }
}

/** Call the Balai API; resolve with the JSON answer, reject with ApiError or NetworkError. */
export async function api(method, path, { body, raw, token, headers } = {}) {
  const cfg = await loadConfig();
  const init = { method, headers: { Accept: "application/json", ...(headers || {}) } };
  if (raw !== undefined) {
    init.body = raw; // a file sent as it is; the caller names its Content-Type
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (token) init.headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(cfg.apiBase + path, init);
  } catch (err) {
    reached(false);
    throw new NetworkError("Tidak ada koneksi ke server.");
  }
  reached(true);
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Send a file with a presigned upload form ({url, method, fields}: every field first, the file last), straight
 * to storage, never through the API. Rejects with NetworkError, or ApiError(status, {message: refused}). */
export async function sendUpload(up, file, refused) {
  const data = new FormData();
  for (const [k, v] of Object.entries(up.fields || {})) data.append(k, v);
  data.append("file", file);
  let sent;
  try {
    sent = await fetch(up.url, { method: up.method || "POST", body: data });
  } catch (err) {
    throw new NetworkError("offline");
  }
  if (!sent.ok) throw new ApiError(sent.status, { message: refused });
}

/** Photos are sent at the size a reader needs, not the camera's (a phone JPEG is 1-4 MB): the long side at
 * most PHOTO_MAX_SIDE px keeps a KK's smallest print legible (a KK across 1600 px: ~5 px per mm; a letter type
 * names a smaller side for a card's photo, a KTP's 1024 px, in its attachment's photo_max_px), and
 * storage, transfer and a slow upload pay for a few hundred KB. They are encoded as WebP where the browser can
 * (Chrome, Android's WebView, Firefox): about half a JPEG's bytes at the same quality, for the citizen's upload
 * and for every time staff open it; JPEG elsewhere (Safari's canvas makes no WebP). PDFs go as they are. */
export const PHOTO_MAX_SIDE = 1600;
export const PHOTO_QUALITY = 0.8;
const PHOTO_KEEP_BYTES = 400 * 1024; // a photo already this small and within the side limit is kept as it is
const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"];

/** The file to upload: a photo scaled down (long side <= PHOTO_MAX_SIDE, EXIF orientation applied) and encoded
 * as WebP, or JPEG where the browser cannot encode WebP; the original when it is a PDF, already small, or the
 * browser cannot decode or encode it, or when the result would not be smaller. Never rejects. */
export async function shrinkPhoto(file, maxSide = PHOTO_MAX_SIDE, quality = PHOTO_QUALITY) {
  if (!PHOTO_TYPES.includes(file.type) || typeof createImageBitmap !== "function") return file;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.size <= PHOTO_KEEP_BYTES) return file;
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; // a transparent PNG becomes white paper, not black
    ctx.fillRect(0, 0, width, height);
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, width, height);
    const encode = (type) => new Promise((resolve) => canvas.toBlob(resolve, type, quality));
    let blob = await encode("image/webp");
    if (!blob || blob.type !== "image/webp") blob = await encode("image/jpeg"); // a canvas without WebP gives PNG
    if (!blob || blob.size >= file.size) return file;
    const webp = blob.type === "image/webp";
    const name = file.name.replace(/\.[A-Za-z0-9]{1,5}$/, "") + (webp ? ".webp" : ".jpg");
    return new File([blob], name, { type: webp ? "image/webp" : "image/jpeg", lastModified: Date.now() });
  } catch (err) {
    return file;
  } finally {
    if (bitmap) bitmap.close();
  }
}

/** The session to keep from a login or refresh answer: the short access token and, for a citizen who asked
 * to stay logged in, the refresh token (30 days, rotated on every use). */
export function sessionFromLogin(login) {
  const s = { token: login.token, expiresAt: Date.now() + login.expires_in * 1000 };
  if (login.refresh_token) {
    s.refreshToken = login.refresh_token;
    s.refreshExpiresAt = Date.now() + (login.refresh_expires_in || 0) * 1000;
  }
  return s;
}

/** A logged-in session kept in localStorage under `key` ({token, expiresAt, refreshToken?, ...}), and an API
 * caller that sends its token. An expired access token is renewed with the refresh token first (one tab at a
 * time: a refresh token used twice ends the session on every device); a 401 that no refresh can cure forgets
 * the session and calls onExpired (the app then shows its login). */
export function sessionStore(key, onExpired) {
  const read = () => JSON.parse(localStorage.getItem(key) || "null");
  const get = () => {
    const s = read();
    if (!s) return null;
    if (s.expiresAt > Date.now()) return s;
    return s.refreshToken && s.refreshExpiresAt > Date.now() ? s : null;
  };
  const expire = () => {
    localStorage.removeItem(key);
    onExpired();
  };
  const renew = async (used) => {
    const now = read();
    if (!now || !now.refreshToken) return null;
    if (now.token !== used && now.expiresAt > Date.now() + 30000) return now; // another tab renewed it
    const answer = await api("POST", "/v1/auth/refresh", { body: { refresh_token: now.refreshToken } });
    // The new tokens replace the old; what else the session keeps (the citizen's profileComplete) stays.
    const kept = Object.entries(now).filter(([k]) => !["token", "expiresAt", "refreshToken", "refreshExpiresAt"].includes(k));
    const next = { ...Object.fromEntries(kept), ...sessionFromLogin(answer) };
    localStorage.setItem(key, JSON.stringify(next));
    return next;
  };
  let renewing = null;
  const refresh = (used) => {
    if (!renewing) {
      const locked = navigator.locks ? navigator.locks.request(`${key}.refresh`, () => renew(used)) : renew(used);
      renewing = locked.finally(() => { renewing = null; });
    }
    return renewing;
  };
  const call = async (method, path, opts = {}) => {
    let s = get();
    try {
      if (s && s.refreshToken && s.expiresAt <= Date.now() + 30000) s = await refresh(s.token);
      return await api(method, path, { ...opts, token: s && s.token });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && s) {
        if (s.refreshToken && !opts.retried && err.code !== "refresh_reused" && path !== "/v1/auth/refresh") {
          try {
            await refresh(s.token);
            return await call(method, path, { ...opts, retried: true });
          } catch (again) {
            if (!(again instanceof ApiError && again.status === 401)) throw again;
          }
        }
        expire();
      }
      throw err;
    }
  };
  const logout = async () => {
    const s = read();
    localStorage.removeItem(key);
    if (s && s.refreshToken) {
      await api("POST", "/v1/auth/logout", { body: { refresh_token: s.refreshToken } }).catch(() => {});
    }
  };
  return { get, call, logout, save: (data) => localStorage.setItem(key, JSON.stringify(data)), clear: () => localStorage.removeItem(key) };
}

let keptRequest = null;

/** Keep a request as an answer returned it (a submission, a transition): the next view of it is drawn from it. */
export function keepRequest(r) {
  keptRequest = r;
  return r;
}

/** The request to show: the kept answer when it is this one (no call), else read from the API with `call`. */
export async function requestToShow(call, id) {
  const kept = keptRequest;
  keptRequest = null;
  return kept && kept.id === id ? kept : call("GET", `/v1/requests/${encodeURIComponent(id)}`);
}

/** Go to a hash route; render again when it is already the current one. */
export function goTo(route, render) {
  if (location.hash === `#${route}`) render();
  else location.hash = route;
}

/** h("p", {class: "x"}, "text", child) -> an element; attributes starting with "on" are listeners. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replace the contents of `root` with the given nodes. */
export function mount(root, ...nodes) {
  root.replaceChildren(...nodes.flat().filter(Boolean));
}

export const STATUS = {
  submitted: "Diajukan",
  in_review: "Diperiksa",
  needs_revision: "Perlu perbaikan",
  approved: "Disetujui",
  issuing: "Sedang diterbitkan",
  issued: "Terbit",
  rejected: "Ditolak",
  cancelled: "Dibatalkan",
};

export const ACTIONS = {
  review: "Mulai periksa",
  request_revision: "Minta perbaikan",
  resubmit: "Ajukan ulang",
  approve: "Setujui",
  reject: "Tolak",
  issue: "Terbitkan surat",
  cancel: "Batalkan",
  submit: "Diajukan",
  create: "Diajukan",
  revoke_letter: "Surat dicabut",
  verify_identity: "Identitas diperiksa",
  download_letter: "Surat diunduh petugas",
  view_attachment: "Lampiran dilihat petugas",
  issued: "Surat terbit",
  sla_reminder: "Pengingat tenggat",
  sla_escalation_kecamatan: "Dieskalasi ke kecamatan",
  sla_escalation_kabupaten: "Dieskalasi ke kabupaten",
};

const TZ_LABEL = { "Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT" };
let timeZone = "Asia/Makassar";

/** Show times in the kabupaten's zone (WIB/WITA/WIT), as the office does. */
export function setTimeZone(tz) {
  if (tz) timeZone = tz;
}

export function fmtDate(iso, withTime = true) {
  if (!iso) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const opts = { timeZone, day: "numeric", month: "short", year: "numeric" };
  if (withTime) Object.assign(opts, { hour: "2-digit", minute: "2-digit" });
  return d.toLocaleString("id-ID", opts) + (withTime ? ` ${TZ_LABEL[timeZone] || ""}` : "");
}

const TERMINAL = ["issued", "rejected", "cancelled"];

/** A request the signer decided to issue is numbered and stored by the issuing queue within seconds: while it
 * is `issuing`, look again shortly (only while the same view is shown). */
export function refreshWhileIssuing(r, stillShown, again, delayMs = 1500) {
  if (r.status !== "issuing") return;
  setTimeout(() => { if (stillShown()) again(); }, delayMs);
}

/** Where an open request stands against its SLA, from its due_at: "overdue" past it; "near" when less than a
 * fifth of the SLA's hours remain (the API counts working hours; wall-clock hours remaining are never fewer,
 * so a "near" here is near there too); null otherwise or once the request is closed. */
export function slaState(r, now = Date.now()) {
  if (TERMINAL.includes(r.status)) return null;
  const due = Date.parse(r.due_at);
  if (Number.isNaN(due)) return null;
  if (now > due) return "overdue";
  if ((due - now) / 3.6e6 <= 0.2 * (r.sla_hours || 8)) return "near";
  return null;
}

export function statusBadge(status) {
  return h("span", { class: `badge st-${status}` }, STATUS[status] || status);
}

/** A message box: kind is "error", "ok" or "info"; role=alert so screen readers announce errors. */
export function notice(kind, text) {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** A random Idempotency-Key (crypto.randomUUID needs a secure context; fall back to getRandomValues). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The label of each field of a letter type, to show stored values under their names. */
export function fieldLabels(type) {
  return Object.fromEntries(((type && type.fields) || []).map((f) => [f.name, f.label]));
}

/** Put the API's own validation messages next to the fields they name; return the rest. */
export function showFieldErrors(form, err) {
  form.querySelectorAll(".field-error").forEach((e) => e.remove());
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  const list = (err.details && (err.details.fields || err.details)) || [];
  const unplaced = [];
  for (const item of Array.isArray(list) ? list : []) {
    const name = String(item.field || "").replace(/^fields\./, "");
    const input = name && form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) {
      const id = `err-${input.id || name}`;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
      input.closest(".field").append(h("p", { class: "field-error", id }, item.message));
    } else {
      unplaced.push(item.message);
    }
  }
  const first = form.querySelector("[aria-invalid]");
  if (first) first.focus();
  return unplaced;
}

/** The tracking code as typed: trimmed, upper case, ASCII letters/digits and one dash. */
export function cleanCode(value) {
  return String(value || "").trim().toUpperCase();
}

export function registerServiceWorker() {
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", () => navigator.serviceWorker.register("/sw.js").catch(() => {}));
  }
}
