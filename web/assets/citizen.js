// Citizen portal: log in with NIK + phone by a WhatsApp message or an SMS code, profile, pick a village and letter type, fill the
// generated form (kept on the device across a dropped connection and a reload, sent once with its
// Idempotency-Key), my requests with history, revise/resubmit, cancel, download the issued letter.
import {
  ACTIONS, ApiError, NetworkError, api, fmtDate, goTo, h, loadConfig, mount, newKey, notice, registerServiceWorker, serverReachable,
  keepRequest, refreshWhileIssuing, requestToShow, sendUpload, sessionFromLogin, sessionStore, setTimeZone, showFieldErrors, shrinkPhoto, statusBadge,
} from "./lib.js";
import { pushOffer, viewInbox, viewMessageSettings } from "./inbox.js";

const SESSION_KEY = "balai.citizen";
const DRAFT_KEY = "balai.draft";
const main = document.getElementById("main");
const menu = document.getElementById("menu");
let flash = null; // a notice shown once on the next view

// ---- session and draft (localStorage: survives a reload and a dropped connection) ---------------
const auth = sessionStore(SESSION_KEY, () => {
  flash = notice("info", "Sesi Anda berakhir. Silakan masuk lagi; isian formulir tetap tersimpan.");
  go("masuk");
});
const session = auth.get;
const call = auth.call;
function saveSession(login) {
  const s = sessionFromLogin(login);
  // A code login says whether the profile is complete and names the NIK's kecamatan: "Ajukan surat" then needs
  // no profile read.
  if (login.profile_complete !== undefined) Object.assign(s, { profileComplete: login.profile_complete, kecamatan: login.region });
  auth.save(s);
}
async function logout() {
  await auth.logout();
  go("masuk");
}
export function loadDraft() {
  return JSON.parse(localStorage.getItem(DRAFT_KEY) || "null");
}
function saveDraft(draft) {
  localStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
}
function clearDraft() {
  localStorage.removeItem(DRAFT_KEY);
}

function go(route) {
  goTo(route, render);
}

function setMenu(active) {
  const links = [["/lacak/", "Lacak permohonan"], ["/pengaduan/", "Pengaduan publik"], ["/staf/", "Petugas"]];
  const items = session()
    ? [["#ajukan", "Ajukan surat"], ["#permohonan", "Permohonan saya"], ["#pengaduan", "Pengaduan"],
      ["#kotak-pesan", "Kotak pesan"], ["#profil", "Profil"]]
    : [["#masuk", "Masuk"]];
  mount(menu, ...items.map(([href, text]) => h("a", { href, "aria-current": href === `#${active}` ? "page" : null }, text)),
    ...links.map(([href, text]) => h("a", { href }, text)),
    session() ? h("a", { href: "#keluar", onclick: (e) => { e.preventDefault(); logout(); } }, "Keluar") : null);
}

let renderSeq = 0; // each render has its number: a slow answer of an earlier view must not overwrite a newer one

function show(seq, title, ...nodes) {
  if (seq !== renderSeq) return;
  document.title = `${title} — Balai`;
  mount(main, h("h1", {}, title), flash, ...nodes);
  flash = null;
}

function errorNotice(err) {
  if (err instanceof NetworkError) return notice("error", "Tidak dapat terhubung ke server. Periksa koneksi internet Anda lalu coba lagi.");
  return notice("error", err.message);
}

function field(id, label, input, hint) {
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("p", { class: "hint" }, hint) : null);
}

function busy(form, on) {
  form.querySelectorAll("button").forEach((b) => { b.disabled = on; });
}

// ---- login -------------------------------------------------------------------------------------
function viewLogin() {
  const seq = renderSeq;
  const status = h("div", { "aria-live": "polite" });
  const nik = h("input", { name: "nik", inputmode: "numeric", autocomplete: "off", maxlength: "16" });
  const phone = h("input", { name: "phone", type: "tel", inputmode: "tel", autocomplete: "tel" });
  const code = h("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6" });
  const codeBox = h("div", { hidden: true }, field("code", "Kode verifikasi (6 angka dari SMS atau email)", code));
  const sendBtn = h("button", { type: "submit" }, "Kirim kode lewat SMS");
  const phoneHint = h("p", { class: "hint" }, "Contoh: 081234567890. Kode masuk dikirim lewat SMS ke nomor ini.");
  // "Masuk lewat WhatsApp" comes first once the API says it is offered (no SMS: the citizen sends the message).
  const waBtn = h("button", { type: "button", hidden: true }, "Masuk lewat WhatsApp");
  const waBox = h("div", { "aria-live": "polite" });
  const phoneField = field("phone", "Nomor HP", phone);
  phoneField.append(phoneHint);
  const form = h("form", { class: "card", novalidate: true },
    field("nik", "NIK (16 angka)", nik, "Nomor Induk Kependudukan sesuai KTP."),
    phoneField, codeBox, h("div", { class: "actions" }, waBtn, sendBtn), waBox, status);
  api("GET", "/v1/auth/whatsapp").then((offer) => {
    if (!offer || !offer.available || seq !== renderSeq || codeSent) return;
    waBtn.hidden = false;
    sendBtn.className = "secondary";
    phoneHint.textContent = "Contoh: 081234567890. Kirim pesan WhatsApp dari nomor ini, atau minta kode lewat SMS.";
  }).catch(() => {});
  waBtn.addEventListener("click", () => whatsappLogin(seq, form, { nik, phone }, waBox, status));
  let codeSent = false;
  // A returning citizen with a confirmed e-mail gets the code there (no SMS); they may still ask for SMS.
  const bySms = h("button", { type: "button", class: "secondary", hidden: true, onclick: async () => {
    busy(form, true);
    try {
      const sent = await api("POST", "/v1/auth/otp", { body: { nik: nik.value.trim(), phone: phone.value.trim(), via: "sms" } });
      bySms.hidden = true;
      mount(status, notice("ok", `Kode dikirim lewat SMS ke ${sent.phone}. Berlaku ${Math.round(sent.expires_in / 60)} menit.`));
    } catch (err) {
      mount(status, errorNotice(err));
    } finally {
      busy(form, false);
    }
  } }, "Kirim lewat SMS saja");
  codeBox.append(bySms);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    busy(form, true);
    mount(status);
    const body = { nik: nik.value.trim(), phone: phone.value.trim() };
    try {
      if (!codeSent) {
        const sent = await api("POST", "/v1/auth/otp", { body });
        codeSent = true;
        waBtn.hidden = true;
        mount(waBox);
        codeBox.hidden = false;
        sendBtn.textContent = "Masuk";
        const where = sent.via === "email" ? `email ${sent.email}` : sent.phone;
        bySms.hidden = sent.via !== "email";
        mount(status, notice("ok", `Kode dikirim ke ${where}. Berlaku ${Math.round(sent.expires_in / 60)} menit.`));
        code.focus();
      } else {
        const login = await api("POST", "/v1/auth/otp/verify", { body: { ...body, code: code.value.trim() } });
        saveSession(login);
        const draft = loadDraft();
        // A first-time applicant has no list to see: straight to the form (one call fewer).
        go(draft || login.has_requests === false ? "ajukan" : "permohonan");
      }
    } catch (err) {
      mount(status, errorNotice(err));
      showFieldErrors(form, err);
    } finally {
      busy(form, false);
    }
  });
  show(seq, "Masuk", h("p", {}, "Masuk dengan NIK dan nomor HP Anda: lewat pesan WhatsApp dari nomor itu, atau dengan "
    + "kode 6 angka lewat SMS."), form,
    h("p", {}, "Sudah punya kode lacak? ", h("a", { href: "/lacak/" }, "Lacak permohonan tanpa masuk"), "."));
}

// ---- login by WhatsApp message: the citizen sends the code from her phone's WhatsApp, the page polls ----------
let stopWhatsappPoll = null; // a second "Masuk lewat WhatsApp" ends the first one's polling

async function whatsappLogin(seq, form, { nik, phone }, box, status) {
  if (stopWhatsappPoll) stopWhatsappPoll();
  busy(form, true);
  mount(status);
  let started;
  try {
    started = await api("POST", "/v1/auth/whatsapp", { body: { nik: nik.value.trim(), phone: phone.value.trim() } });
  } catch (err) {
    busy(form, false);
    mount(status, errorNotice(err));
    showFieldErrors(form, err);
    return;
  }
  const expiresAt = Date.now() + started.expires_in * 1000;
  const wait = h("p", { class: "hint" }, "Menunggu pesan Anda…");
  mount(box, h("div", { class: "card" },
    h("p", {}, "Kirim pesan WhatsApp berisi kode ", h("strong", { class: "code" }, started.code), " ke ",
      h("strong", {}, started.number), " dari WhatsApp di nomor HP yang Anda isi."),
    h("div", { class: "actions" }, h("a", { class: "button", href: started.link, target: "_blank", rel: "noopener" },
      "Buka WhatsApp dan kirim")),
    // On a computer: the same link (its text kept short, so a narrow screen does not scroll sideways), or the code
    // typed on the phone.
    h("p", { class: "hint" }, "Di komputer? Buka ",
      h("a", { href: started.link, target: "_blank", rel: "noopener" }, started.link.replace(/^https:\/\/|\?.*$/g, "")),
      " di HP Anda, atau kirim kode di atas ke nomor tersebut dari WhatsApp di HP."),
    wait));
  busy(form, false);
  // Poll every 2 s, backing off to 10 s, only while the page is shown (on a phone it is hidden while WhatsApp is
  // open; it polls again the moment the citizen comes back), until the login expires.
  let delay = 2000;
  let timer = null;
  let done = false;
  const stop = () => {
    done = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
  stopWhatsappPoll = stop;
  const schedule = (ms) => { clearTimeout(timer); timer = setTimeout(poll, ms); };
  async function poll() {
    if (done) return;
    if (seq !== renderSeq) return stop();
    if (Date.now() >= expiresAt) {
      stop();
      mount(box, notice("error", "Waktu masuk lewat WhatsApp sudah habis. Tekan \"Masuk lewat WhatsApp\" lagi atau minta kode SMS."));
      return;
    }
    if (document.hidden) return; // onVisible polls when the page is shown again
    try {
      const answer = await api("POST", "/v1/auth/whatsapp/verify", { body: { login_id: started.login_id } });
      if (answer && answer.token) {
        stop();
        saveSession(answer);
        const draft = loadDraft();
        go(draft || answer.has_requests === false ? "ajukan" : "permohonan");
        return;
      }
    } catch (err) {
      if (err instanceof ApiError) {
        stop();
        mount(box, errorNotice(err));
        return;
      }
      // offline for a moment: keep trying
    }
    delay = Math.min(Math.round(delay * 1.5), 10000);
    schedule(delay);
  }
  function onVisible() {
    if (!document.hidden && !done) schedule(0);
  }
  document.addEventListener("visibilitychange", onVisible);
  schedule(delay);
}

// ---- sign-in link of a status SMS (#masuk/<secret>): opens the request it announced, no login code ----
async function viewLinkSignIn(secret) {
  const seq = renderSeq;
  show(seq, "Masuk", h("p", { "aria-live": "polite" }, "Memeriksa tautan masuk dari SMS…"));
  let target = "masuk";
  try {
    const login = await api("POST", "/v1/auth/link", { body: { token: secret } });
    saveSession(login);
    target = `permohonan/${login.request_id}`;
  } catch (err) {
    flash = errorNotice(err);
    if (session()) target = "permohonan";
  }
  // The one-time secret leaves the address bar and the history either way.
  history.replaceState(null, "", `#${target}`);
  return render();
}

// ---- profile -------------------------------------------------------------------------------------
const RELIGIONS = ["Islam", "Kristen", "Katolik", "Hindu", "Buddha", "Khonghucu", "Kepercayaan"];
const MARITAL = ["Belum Kawin", "Kawin", "Cerai Hidup", "Cerai Mati"];

function select(name, options, value, placeholder = "— pilih —") {
  return h("select", { name }, h("option", { value: "" }, placeholder),
    ...options.map((o) => {
      const [v, label] = Array.isArray(o) ? o : [o, o];
      return h("option", { value: v, selected: v === value }, label);
    }));
}

async function viewProfile(next) {
  const seq = renderSeq;
  let profile;
  try {
    profile = await call("GET", "/v1/me/profile");
  } catch (err) {
    return show(seq, "Profil pemohon", errorNotice(err));
  }
  const v = (k) => profile[k] || "";
  const input = (name, attrs = {}) => h("input", { name, value: v(name), ...attrs });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", novalidate: true },
    h("p", {}, "NIK: ", h("span", { class: "code" }, profile.nik)),
    field("p-name", "Nama lengkap", input("name", { autocomplete: "name", maxlength: "120" })),
    h("div", { class: "grid2" },
      field("p-birth_place", "Tempat lahir", input("birth_place", { maxlength: "80" })),
      field("p-birth_date", "Tanggal lahir", input("birth_date", { type: "date" }))),
    h("div", { class: "grid2" },
      field("p-sex", "Jenis kelamin", select("sex", [["L", "Laki-laki"], ["P", "Perempuan"]], v("sex"))),
      field("p-religion", "Agama", select("religion", RELIGIONS, v("religion")))),
    h("div", { class: "grid2" },
      field("p-marital_status", "Status perkawinan", select("marital_status", MARITAL, v("marital_status"))),
      field("p-occupation", "Pekerjaan", input("occupation", { maxlength: "80" }))),
    field("p-address", "Alamat", input("address", { maxlength: "200", autocomplete: "street-address" })),
    h("div", { class: "grid2" },
      field("p-rt", "RT", input("rt", { inputmode: "numeric", maxlength: "3" })),
      field("p-rw", "RW", input("rw", { inputmode: "numeric", maxlength: "3" }))),
    field("p-kk_number", "Nomor KK (boleh dikosongkan)", input("kk_number", { inputmode: "numeric", maxlength: "16" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Simpan profil")), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { version: profile.version };
    for (const el of form.elements) {
      if (el.name && el.value.trim() !== "") body[el.name] = el.value.trim();
    }
    busy(form, true);
    try {
      profile = await call("PUT", "/v1/me/profile", { body });
      const s = session();
      if (s) auth.save({ ...s, profileComplete: profile.complete, kecamatan: s.kecamatan || ownKecamatan(profile) });
      flash = notice("ok", "Profil tersimpan.");
      go(next || "ajukan");
    } catch (err) {
      const rest = showFieldErrors(form, err);
      mount(status, errorNotice(err), ...rest.map((m) => notice("error", m)));
    } finally {
      busy(form, false);
    }
  });
  show(seq, "Profil pemohon",
    profile.complete ? null : notice("info", "Lengkapi data pemohon dahulu: data ini dicetak pada setiap surat."),
    profile.in_register ? notice("info", "Sebagian data ini berasal dari data penduduk desa/kelurahan dan hanya dapat diubah oleh kantor desa/kelurahan.") : null,
    h("p", {}, "Tanggal lahir dan jenis kelamin harus sesuai dengan NIK."), form);
}

function ownKecamatan(profile) {
  return `${profile.nik.slice(0, 2)}.${profile.nik.slice(2, 4)}.${profile.nik.slice(4, 6)}`;
}

// ---- choose a village and a letter type, then the form ------------------------------------------
async function viewChoose() {
  const seq = renderSeq;
  const draft = loadDraft();
  if (draft && draft.village && draft.letterType) return viewForm(draft);
  let kab;
  let ownKec;
  let own = null; // her own kecamatan with its villages, when it lies in this kabupaten
  try {
    const s = session();
    if (s.profileComplete && s.kecamatan) {
      ownKec = s.kecamatan; // the login said the profile is complete: no read of it
    } else {
      const profile = await call("GET", "/v1/me/profile");
      if (!profile.complete) {
        flash = notice("info", "Lengkapi profil Anda sebelum mengajukan surat.");
        return go("profil");
      }
      ownKec = ownKecamatan(profile);
    }
    const cfg = await loadConfig();
    const kabCode = cfg.region || ownKec.split(".").slice(0, 2).join(".");
    if (ownKec.startsWith(`${kabCode}.`)) {
      // One answer: her kecamatan's villages and, as its siblings, every kecamatan of the kabupaten.
      own = await api("GET", `/v1/regions/${ownKec}?siblings=true`).catch((err) => {
        if (err instanceof ApiError && err.status === 404) return null; // a NIK code the region tree lacks
        throw err;
      });
    }
    kab = own ? { code: kabCode, timezone: own.timezone, children: own.siblings } : await api("GET", `/v1/regions/${kabCode}`);
  } catch (err) {
    return show(seq, "Ajukan surat", errorNotice(err));
  }
  setTimeZone(kab.timezone);
  const kecSel = select("kecamatan", kab.children.map((c) => [c.code, c.active ? c.name : `${c.name} (belum aktif)`]),
    kab.children.some((c) => c.code === ownKec) ? ownKec : "", "— pilih kecamatan —");
  const desaSel = select("village", [], "", "— pilih desa/kelurahan —");
  const types = h("div", { "aria-live": "polite" });
  const status = h("div", { "aria-live": "polite" });
  async function loadDesa() {
    mount(types);
    if (!kecSel.value) return mount(desaSel, h("option", { value: "" }, "— pilih desa/kelurahan —"));
    try {
      const kec = own && own.code === kecSel.value ? own : await api("GET", `/v1/regions/${kecSel.value}`);
      mount(desaSel, h("option", { value: "" }, "— pilih desa/kelurahan —"),
        ...kec.children.map((d) => h("option", { value: d.code, disabled: !d.active },
          `${d.level === "kelurahan" ? "Kelurahan" : "Desa"} ${d.name}${d.active ? "" : " (belum aktif)"}`)));
    } catch (err) {
      mount(status, errorNotice(err));
    }
  }
  async function loadTypes() {
    mount(types);
    if (!desaSel.value) return;
    try {
      const list = await api("GET", `/v1/villages/${desaSel.value}/letter-types`);
      const villageName = desaSel.selectedOptions[0].textContent;
      mount(types, h("h2", {}, "Pilih jenis surat"), h("ul", { class: "list" }, ...list.items.filter((t) => t.enabled).map((t) =>
        h("li", {}, h("div", { class: "row" },
          h("button", { type: "button", class: "secondary", onclick: () => {
            // The type's schema goes with the draft, so the form can be drawn again without a connection.
            saveDraft({ village: desaSel.value, villageName, letterType: t.code, letterName: t.name, type: t,
              fields: {}, attachments: {}, key: newKey(), pending: false });
            render();
          } }, t.name),
          h("span", { class: "muted" }, `Selesai ± ${t.sla_hours} jam kerja`))))));
    } catch (err) {
      mount(types, errorNotice(err));
    }
  }
  kecSel.addEventListener("change", loadDesa);
  desaSel.addEventListener("change", loadTypes);
  show(seq, "Ajukan surat", h("div", { class: "card" },
    field("kecamatan", "Kecamatan", kecSel), field("village", "Desa/kelurahan", desaSel), status), types);
  if (kecSel.value) loadDesa();
}

function fieldInput(spec, value) {
  const name = spec.name;
  switch (spec.type) {
    case "text": return h("textarea", { name, maxlength: spec.max_length || null }, value ?? "");
    case "integer": return h("input", { name, inputmode: "numeric", value: value ?? "" });
    case "date": return h("input", { name, type: "date", value: value ?? "" });
    case "enum": return select(name, spec.options || [], value ?? "");
    case "boolean": return h("input", { name, type: "checkbox", checked: value === true });
    default: return h("input", { name, maxlength: spec.max_length || null, value: value ?? "" });
  }
}

function readFields(form, specs) {
  const out = {};
  for (const spec of specs) {
    const el = form.elements.namedItem(spec.name);
    if (!el) continue;
    if (spec.type === "boolean") { out[spec.name] = el.checked; continue; }
    const raw = el.value.trim();
    if (raw === "") continue;
    out[spec.name] = spec.type === "integer" && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
  }
  return out;
}

/** The letter form generated from the type's field schema; used for a new request and for a revision. */
function letterForm(type, values, { onChange, attachments, village, submitLabel }) {
  const form = h("form", { class: "card", novalidate: true },
    ...type.fields.map((spec) => {
      const input = fieldInput(spec, values[spec.name]);
      const label = `${spec.label}${spec.required ? "" : " (boleh dikosongkan)"}`;
      if (spec.type === "boolean") {
        input.id = `f-${spec.name}`;
        return h("div", { class: "field" }, h("label", { for: input.id }, input, label));
      }
      return field(`f-${spec.name}`, label, input);
    }));
  for (const att of type.attachments || []) form.append(attachmentField(att, type, village, attachments, onChange));
  form.append(h("div", { class: "actions" }, h("button", { type: "submit" }, submitLabel)));
  form.addEventListener("input", () => onChange && onChange(readFields(form, type.fields)));
  form.addEventListener("change", () => onChange && onChange(readFields(form, type.fields)));
  return form;
}

const FILE_TYPES = ["image/jpeg", "image/png", "image/webp", "application/pdf"];

function attachmentField(att, type, village, attachments, onChange) {
  const id = `a-${att.name}`;
  const input = h("input", { type: "file", id, name: att.name, accept: FILE_TYPES.join(",") });
  const state = h("p", { class: "hint", "aria-live": "polite" },
    attachments[att.name] ? `Terunggah: ${attachments[att.name].filename}` : "Foto (JPG/PNG/WebP) atau PDF, paling besar 5 MB. Foto diperkecil otomatis sebelum dikirim.");
  input.addEventListener("change", async () => {
    const box = input.closest(".field");
    box.querySelectorAll(".field-error").forEach((e) => e.remove());
    const chosen = input.files[0];
    if (!chosen) return;
    state.textContent = "Mengunggah…";
    try {
      const file = await shrinkPhoto(chosen, att.photo_max_px || undefined);
      const up = await call("POST", `/v1/villages/${village}/uploads`, { body: {
        letter_type: type.code, attachment: att.name, filename: file.name, content_type: file.type, size: file.size } });
      await sendUpload(up, file, "Unggahan ditolak penyimpanan. Periksa jenis dan ukuran berkas.");
      attachments[att.name] = { upload_id: up.upload_id, filename: file.name };
      state.textContent = `Terunggah: ${file.name}`;
      onChange && onChange(null);
    } catch (err) {
      state.textContent = "";
      const msg = err instanceof NetworkError ? "Tidak dapat mengunggah tanpa koneksi. Pilih berkas lagi saat online." : err.message;
      box.append(h("p", { class: "field-error", role: "alert" }, msg));
    }
  });
  return h("div", { class: "field" }, h("label", { for: id }, `${att.label}${att.required ? "" : " (boleh dikosongkan)"}`),
    input, state);
}

let sending = false;

// A kept form is tried again on the "online" event, and also on a timer after a failed send: a phone can stay
// "online" (a cell without data, a captive Wi-Fi) while no call gets through, and then no event ever comes.
const RETRY_FIRST_MS = 5000;
const RETRY_MAX_MS = 60000;
let retryTimer = null;
let retryDelay = RETRY_FIRST_MS;

function retryPendingLater() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => flushPending(), retryDelay);
  retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
}

/** Send the kept form if it is waiting: once, with its own Idempotency-Key, however often this is called. */
async function flushPending(form) {
  const draft = loadDraft();
  if (!draft || !draft.pending || sending || !session()) return;
  if (!navigator.onLine) return;
  sending = true;
  const status = document.getElementById("form-status");
  try {
    const body = { letter_type: draft.letterType, fields: draft.fields };
    const ids = Object.fromEntries(Object.entries(draft.attachments || {}).map(([k, v]) => [k, v.upload_id]));
    if (Object.keys(ids).length) body.attachments = ids;
    const created = await call("POST", `/v1/villages/${draft.village}/requests`,
      { body, headers: { "Idempotency-Key": draft.key } });
    clearDraft();
    clearTimeout(retryTimer);
    retryDelay = RETRY_FIRST_MS;
    keepRequest(created);
    flash = h("div", {}, notice("ok", `Permohonan terkirim. Kode lacak Anda: ${created.tracking_code}. Simpan kode ini.`),
      pushOffer(call));
    go(`permohonan/${created.id}`);
  } catch (err) {
    if (err instanceof NetworkError) {
      if (status) {
        mount(status, notice("info", "Koneksi terputus. Permohonan tersimpan dan akan dikirim otomatis saat koneksi kembali."));
      }
      retryPendingLater();
    } else {
      draft.pending = false;
      saveDraft(draft);
      const f = form || document.querySelector("form");
      const rest = f ? showFieldErrors(f, err) : [];
      if (status) mount(status, errorNotice(err), ...rest.map((m) => notice("error", m)));
    }
  } finally {
    sending = false;
  }
}

async function viewForm(draft) {
  const seq = renderSeq;
  let type = draft.type;
  try {
    const list = await api("GET", `/v1/villages/${draft.village}/letter-types`);
    type = list.items.find((t) => t.code === draft.letterType);
    draft.type = type;
  } catch (err) {
    // Offline: draw the form from the schema kept with the draft.
    if (!(err instanceof NetworkError) || !type) {
      return show(seq, draft.letterName || "Formulir", errorNotice(err),
        notice("info", "Isian Anda tetap tersimpan di perangkat ini."));
    }
  }
  if (!type) {
    clearDraft();
    return show(seq, "Ajukan surat", notice("error", "Jenis surat ini tidak lagi tersedia di desa tersebut."));
  }
  draft.attachments = draft.attachments || {};
  const status = h("div", { id: "form-status", "aria-live": "polite" });
  const form = letterForm(type, draft.fields || {}, {
    village: draft.village, attachments: draft.attachments, submitLabel: "Kirim permohonan",
    onChange: (fields) => {
      if (fields) draft.fields = fields;
      saveDraft(draft);
    },
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    draft.fields = readFields(form, type.fields);
    draft.pending = true;
    saveDraft(draft);
    if (!navigator.onLine) {
      mount(status, notice("info", "Anda sedang luring. Permohonan tersimpan dan akan dikirim otomatis saat koneksi kembali."));
      return;
    }
    mount(status, notice("info", "Mengirim…"));
    flushPending(form);
  });
  show(seq, type.name,
    h("p", {}, `Untuk ${draft.villageName || draft.village}. Isian tersimpan otomatis di perangkat ini, juga saat koneksi putus.`),
    draft.pending ? notice("info", "Permohonan ini menunggu koneksi untuk dikirim.") : null,
    form, status,
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => { clearDraft(); render(); } },
      "Batalkan isian dan pilih surat lain")));
  if (draft.pending) flushPending(form);
}

// ---- my requests --------------------------------------------------------------------------------
async function viewList() {
  const seq = renderSeq;
  let data;
  try {
    data = await call("GET", "/v1/me/requests?limit=50");
  } catch (err) {
    return show(seq, "Permohonan saya", errorNotice(err));
  }
  const draft = loadDraft();
  show(seq, "Permohonan saya",
    draft ? notice("info", draft.pending ? `${draft.letterName} menunggu koneksi untuk dikirim.` : `Ada isian ${draft.letterName} yang belum dikirim.`) : null,
    draft ? h("p", {}, h("a", { href: "#ajukan" }, "Lanjutkan isian")) : null,
    data.items.length === 0
      ? h("p", {}, "Belum ada permohonan. ", h("a", { href: "#ajukan" }, "Ajukan surat"), ".")
      : h("ul", { class: "list card" }, ...data.items.map((r) => h("li", {},
        h("div", { class: "row" }, h("a", { href: `#permohonan/${r.id}` }, r.letter_name), statusBadge(r.status)),
        h("div", { class: "muted" }, `Kode lacak ${r.tracking_code} · diajukan ${fmtDate(r.created_at)}`)))));
}

async function viewRequest(id) {
  const seq = renderSeq;
  let r;
  try {
    r = await requestToShow(call, id); // after a submission or a transition: its answer, no call
  } catch (err) {
    return show(seq, "Permohonan", errorNotice(err));
  }
  const labels = r.field_labels || {}; // the request names its fields' labels: no call for the letter types
  const status = h("div", { "aria-live": "polite" });
  const parts = [
    h("div", { class: "card" }, h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, statusBadge(r.status)),
      h("dt", {}, "Kode lacak"), h("dd", { class: "code" }, r.tracking_code),
      h("dt", {}, "Diajukan"), h("dd", {}, fmtDate(r.created_at)),
      h("dt", {}, "Target selesai"), h("dd", {}, fmtDate(r.due_at)),
      r.letter && r.letter.number ? [h("dt", {}, "Nomor surat"), h("dd", {}, r.letter.number)] : null,
      ...Object.entries(r.fields).map(([k, v]) => [h("dt", {}, labels[k] || k), h("dd", {}, String(v))]))),
  ];
  const actions = h("div", { class: "actions" });
  if (r.status === "issued") {
    // The request's answer carries the PDF's 5-minute link for its owner: used while fresh, else asked for.
    const kept = r.letter && r.letter.download;
    const keptUntil = kept ? Date.now() + (kept.expires_in - 30) * 1000 : 0;
    actions.append(h("button", { type: "button", onclick: async () => {
      try {
        const link = kept && Date.now() < keptUntil ? kept : await call("GET", `/v1/requests/${r.id}/letter`);
        mount(status, h("p", {}, h("a", { href: link.url, class: "button", id: "letter-link", target: "_blank", rel: "noopener" },
          `Buka surat ${link.number} (PDF)`)),
        h("p", {}, h("a", { href: `/verifikasi/?token=${encodeURIComponent(link.verify_url.split("/").pop())}` }, "Lihat halaman verifikasi surat")));
      } catch (err) {
        mount(status, errorNotice(err));
      }
    } }, "Unduh surat"));
  }
  if (["submitted", "needs_revision"].includes(r.status)) {
    actions.append(h("button", { type: "button", class: "danger", onclick: async () => {
      if (!confirm("Batalkan permohonan ini?")) return;
      try {
        keepRequest(await call("POST", `/v1/requests/${r.id}/transitions`, { body: { action: "cancel", version: r.version } }));
        flash = notice("ok", "Permohonan dibatalkan.");
        render();
      } catch (err) {
        mount(status, errorNotice(err));
      }
    } }, "Batalkan permohonan"));
  }
  parts.push(actions, status);
  if (r.status === "needs_revision") parts.push(await revisionForm(r));
  parts.push(h("h2", {}, "Riwayat"), h("ol", { class: "history card" }, ...r.history.map((e) => h("li", {},
    h("strong", {}, ACTIONS[e.action] || e.action), ` — ${fmtDate(e.at)}`, e.note ? h("div", {}, `Catatan: ${e.note}`) : null))));
  show(seq, r.letter_name, ...parts);
  refreshWhileIssuing(r, () => seq === renderSeq && location.hash.includes(r.id), render);
}

async function revisionForm(r) {
  const last = [...r.history].reverse().find((e) => e.action === "request_revision");
  let type;
  try {
    const list = await api("GET", `/v1/villages/${r.village}/letter-types`);
    type = list.items.find((t) => t.code === r.letter_type);
  } catch (err) {
    return errorNotice(err);
  }
  if (!type) return null;
  const attachments = {};
  const status = h("div", { "aria-live": "polite" });
  const form = letterForm(type, r.fields, { village: r.village, attachments, submitLabel: "Ajukan ulang" });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { action: "resubmit", version: r.version, fields: readFields(form, type.fields) };
    const ids = Object.fromEntries(Object.entries(attachments).map(([k, v]) => [k, v.upload_id]));
    if (Object.keys(ids).length) body.attachments = ids;
    busy(form, true);
    try {
      keepRequest(await call("POST", `/v1/requests/${r.id}/transitions`, { body }));
      flash = notice("ok", "Permohonan diajukan ulang.");
      render();
    } catch (err) {
      const rest = showFieldErrors(form, err);
      mount(status, errorNotice(err), ...rest.map((m) => notice("error", m)));
    } finally {
      busy(form, false);
    }
  });
  return h("section", {}, h("h2", {}, "Perbaiki dan ajukan ulang"),
    last && last.note ? notice("info", `Catatan petugas: ${last.note}`) : null, form, status);
}

// ---- router -------------------------------------------------------------------------------------
async function render() {
  renderSeq += 1;
  const route = location.hash.replace(/^#/, "") || (session() ? "permohonan" : "masuk");
  const [name, arg] = route.split("/");
  setMenu(name);
  if (!session() && name !== "masuk") return go("masuk");
  if (name === "masuk" && arg) return viewLinkSignIn(arg);
  if (name === "masuk") return session() ? go("permohonan") : viewLogin();
  if (name === "profil") return viewProfile();
  if (name === "kotak-pesan") return viewInbox({ call, show, seq: renderSeq, errorNotice, render });
  if (name === "pemberitahuan") return viewMessageSettings({ call, show, seq: renderSeq, errorNotice, render, logout });
  if (name === "ajukan") return viewChoose();
  if (name === "permohonan" && arg) return viewRequest(arg);
  // Complaints load on first use: the letter portal's first load stays as small as it was.
  if (name === "pengaduan") {
    const { renderComplaints } = await import("./citizen-complaints.js");
    return renderComplaints(arg, { call, show, seq: () => renderSeq, go, errorNotice });
  }
  return viewList();
}

function onlineState() {
  document.getElementById("offline").hidden = navigator.onLine && serverReachable;
}

// After a route change, keyboard and screen-reader users start at the new page's content.
window.addEventListener("hashchange", () => render().then(() => main.focus({ preventScroll: true })));
window.addEventListener("online", () => { onlineState(); flushPending(); });
window.addEventListener("offline", onlineState);
window.addEventListener("balai:reachable", onlineState);
onlineState();
render().then(() => flushPending()); // a form kept from an earlier visit goes out as soon as possible
registerServiceWorker();
