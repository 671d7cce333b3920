// Staff console: log in; the village queue by status with SLA badges, paginated; a request's detail with
// its history and attachments; exactly the transitions the role may take; revoke a letter; failed
// notifications with resend; letter settings. Camat and admin switch between the villages of their region.
import {
  ACTIONS, NetworkError, STATUS, api, fmtDate, goTo, h, mount, notice, registerServiceWorker, sessionStore,
  keepRequest, refreshWhileIssuing, requestToShow, setTimeZone, showFieldErrors, slaState, statusBadge,
} from "./lib.js";
import { districtNodes } from "./district.js";
import { viewMessages } from "./staff-messages.js";

const SESSION_KEY = "balai.staff";
const VILLAGE_KEY = "balai.staff.village";
const main = document.getElementById("main");
const menu = document.getElementById("menu");
const ROLE = { citizen: "Warga", system: "Sistem", operator: "Operator", kades: "Kepala desa/lurah", camat: "Camat", admin: "Admin kabupaten", opd: "OPD" };
const VILLAGE_STAFF = ["operator", "kades"];
// The state machine as the API enforces it (chalicelib/domain/requests.py): from which states, who, note needed.
const TRANSITIONS = {
  review: { from: ["submitted"], note: false },
  request_revision: { from: ["in_review"], note: true },
  approve: { from: ["in_review"], note: false },
  reject: { from: ["submitted", "in_review"], note: true },
  issue: { from: ["approved", "issuing"], note: false, signer: true },
};
let flash = null;

const auth = sessionStore(SESSION_KEY, () => {
  flash = notice("info", "Sesi berakhir. Silakan masuk lagi.");
  go("masuk");
});
const session = auth.get;
const call = auth.call;

function go(route) {
  goTo(route, render);
}

let renderSeq = 0; // each render has its number: a slow answer of an earlier view must not overwrite a newer one

function show(seq, title, ...nodes) {
  if (seq !== renderSeq) return;
  document.title = `${title} — Balai Petugas`;
  mount(main, h("h1", {}, title), flash, ...nodes);
  flash = null;
}

function errorNotice(err) {
  if (err instanceof NetworkError) return notice("error", "Tidak dapat terhubung ke server. Periksa koneksi lalu coba lagi.");
  return notice("error", err.message);
}

function field(id, label, input) {
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

function setMenu(active) {
  const s = session();
  const items = s && s.role === "opd" ? [["#pengaduan", "Pengaduan"], ["#akun", "Akun"]] : s ? [["#antrean", "Antrean"], ["#pengaduan", "Pengaduan"], ["#notifikasi", "Notifikasi gagal"], ["#pengaturan", "Pengaturan surat"], ["#jenis-surat", "Jenis surat"], ["#akun", "Akun"], ["#pesan", "Pesan dan biaya"]] : [];
  if (s && ["admin", "camat"].includes(s.role)) items.splice(1, 0, ["#ringkasan", "Ringkasan wilayah"]);
  mount(menu, ...items.map(([href, text]) => h("a", { href, "aria-current": href === `#${active}` ? "page" : null }, text)),
    h("a", { href: "/" }, "Portal warga"),
    s ? h("a", { href: "#keluar", onclick: (e) => { e.preventDefault(); auth.clear(); go("masuk"); } },
      `Keluar (${s.username})`) : null);
}

function village() {
  const s = session();
  if (VILLAGE_STAFF.includes(s.role)) return s.region;
  return localStorage.getItem(VILLAGE_KEY) || "";
}

// ---- login -------------------------------------------------------------------------------------
function viewLogin() {
  const seq = renderSeq;
  const username = h("input", { name: "username", autocomplete: "username", autocapitalize: "none" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password" });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", novalidate: true }, field("username", "Nama pengguna", username),
    field("password", "Kata sandi", password), h("div", { class: "actions" }, h("button", { type: "submit" }, "Masuk")), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const login = await api("POST", "/v1/auth/login", { body: { username: username.value.trim(), password: password.value } });
      auth.save({ token: login.token, role: login.role, region: login.region, username: username.value.trim(),
        regionInfo: login.region_info || null, expiresAt: Date.now() + login.expires_in * 1000 });
      go("antrean");
    } catch (err) {
      mount(status, errorNotice(err));
      showFieldErrors(form, err);
    }
  });
  show(seq, "Masuk petugas", form);
}

// ---- village chooser (camat, admin) ---------------------------------------------------------------
async function villageChooser(onPick) {
  const s = session();
  const box = h("div", { class: "card grid2" });
  if (VILLAGE_STAFF.includes(s.role)) {
    // The login answered the village's name and zone; an older session asks once.
    const r = s.regionInfo && s.regionInfo.code === s.region ? s.regionInfo : await api("GET", `/v1/regions/${s.region}`);
    setTimeZone(r.timezone);
    mount(box, h("p", { class: "flat" }, `${ROLE[s.role]} · ${r.level === "kelurahan" ? "Kelurahan" : "Desa"} ${r.name} (${r.code})`));
    return box;
  }
  const top = await api("GET", `/v1/regions/${s.region}`);
  setTimeZone(top.timezone);
  const current = village();
  const desaSel = h("select", { name: "village" });
  async function fillDesa(kecCode) {
    const kec = kecCode === top.code ? top : await api("GET", `/v1/regions/${kecCode}`);
    mount(desaSel, h("option", { value: "" }, "— pilih desa/kelurahan —"), ...kec.children.map((d) =>
      h("option", { value: d.code, selected: d.code === current }, `${d.name}${d.active ? "" : " (belum aktif)"}`)));
  }
  desaSel.addEventListener("change", () => {
    localStorage.setItem(VILLAGE_KEY, desaSel.value);
    onPick(desaSel.value);
  });
  if (top.level === "kecamatan") {
    await fillDesa(top.code);
    mount(box, h("p", { class: "flat" }, `${ROLE[s.role]} · Kecamatan ${top.name}`), field("pick-village", "Desa/kelurahan", desaSel));
  } else {
    const kecSel = h("select", { name: "kecamatan" }, h("option", { value: "" }, "— pilih kecamatan —"),
      ...top.children.map((k) => h("option", { value: k.code, selected: current.startsWith(`${k.code}.`) }, k.name)));
    kecSel.addEventListener("change", () => kecSel.value && fillDesa(kecSel.value));
    if (kecSel.value) await fillDesa(kecSel.value);
    mount(box, field("pick-kecamatan", `${ROLE[s.role]} · Kecamatan`, kecSel), field("pick-village", "Desa/kelurahan", desaSel));
  }
  return box;
}

// ---- queue -----------------------------------------------------------------------------------------
function slaBadge(r) {
  const state = slaState(r);
  if (state === "overdue") return h("span", { class: "badge overdue" }, "Lewat tenggat");
  if (state === "near") return h("span", { class: "badge near" }, "Hampir tenggat");
  return null;
}

async function viewQueue() {
  const seq = renderSeq;
  let chooser;
  try {
    chooser = await villageChooser(() => render());
  } catch (err) {
    return show(seq, "Antrean permohonan", errorNotice(err));
  }
  const desa = village();
  if (!desa) return show(seq, "Antrean permohonan", chooser, h("p", {}, "Pilih desa/kelurahan untuk melihat antreannya."));
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const status = params.get("status") || "";
  const tabs = h("div", { class: "tabs", role: "group", "aria-label": "Saring menurut status" },
    ...[["", "Semua"], ...Object.entries(STATUS)].map(([value, label]) => h("button", {
      type: "button", "aria-pressed": String(value === status),
      onclick: () => go(value ? `antrean?status=${value}` : "antrean") }, label)));
  const body = h("tbody");
  const more = h("div", { class: "actions" });
  const msg = h("div", { "aria-live": "polite" });
  async function load(cursor) {
    const q = new URLSearchParams({ limit: "20" });
    if (status) q.set("status", status);
    if (cursor) q.set("cursor", cursor);
    try {
      const page = await call("GET", `/v1/villages/${desa}/requests?${q}`);
      if (!cursor && page.items.length === 0) mount(msg, h("p", {}, "Tidak ada permohonan di sini."));
      for (const r of page.items) {
        body.append(h("tr", {},
          h("td", {}, h("a", { href: `#permohonan/${r.id}` }, r.letter_name), h("div", { class: "muted code" }, r.tracking_code)),
          h("td", { "data-label": "Pemohon" }, r.applicant.name || "-"),
          h("td", {}, statusBadge(r.status), " ", slaBadge(r)),
          h("td", { "data-label": "Diajukan" }, fmtDate(r.created_at)), h("td", { "data-label": "Tenggat" }, fmtDate(r.due_at))));
      }
      mount(more, page.next ? h("button", { type: "button", class: "secondary", onclick: () => load(page.next) }, "Muat lebih banyak") : null);
    } catch (err) {
      mount(msg, errorNotice(err));
    }
  }
  show(seq, "Antrean permohonan", chooser, tabs, msg, h("table", { class: "queue" },
    h("thead", {}, h("tr", {}, ...["Permohonan", "Pemohon", "Status", "Diajukan", "Tenggat"].map((t) => h("th", { scope: "col" }, t)))),
    body), more);
  await load(null);
}

// ---- a request ---------------------------------------------------------------------------------
async function viewRequest(id) {
  const seq = renderSeq;
  const s = session();
  let r;
  try {
    r = await requestToShow(call, id); // after a submission or a transition: its answer, no call
  } catch (err) {
    return show(seq, "Permohonan", errorNotice(err));
  }
  // The request names its signer and its fields' labels: no call for the village's letter types.
  const signer = r.signer_role || "kades";
  const labels = r.field_labels || {};
  const status = h("div", { "aria-live": "polite" });
  const mine = VILLAGE_STAFF.includes(s.role) && s.region === r.village;
  const allowed = Object.entries(TRANSITIONS).filter(([action, t]) =>
    mine && t.from.includes(r.status) && (t.signer ? s.role === signer : true));
  const note = h("textarea", { name: "note", maxlength: "1000" });
  const actions = h("form", { class: "card", novalidate: true },
    h("h2", {}, "Tindakan"),
    allowed.length ? field("note", "Catatan (wajib untuk minta perbaikan dan menolak)", note) : h("p", {}, "Tidak ada tindakan untuk Anda pada status ini."),
    h("div", { class: "actions" }, ...allowed.map(([action, t]) => h("button", {
      type: "button", class: action === "reject" ? "danger" : (action === "request_revision" ? "secondary" : null),
      "data-action": action,
      onclick: async (e) => {
        if (t.note && !note.value.trim()) {
          mount(status, notice("error", "Tulis catatan atau alasan terlebih dahulu."));
          note.focus();
          return;
        }
        e.target.disabled = true;
        try {
          const body = { action, version: r.version };
          if (note.value.trim()) body.note = note.value.trim();
          keepRequest(await call("POST", `/v1/requests/${r.id}/transitions`, { body }));
          flash = notice("ok", `${ACTIONS[action]}: berhasil.`);
          render();
        } catch (err) {
          e.target.disabled = false;
          mount(status, errorNotice(err), err.code === "stale_version" ? notice("info", "Muat ulang halaman untuk melihat perubahan terbaru.") : null);
        }
      } }, action === "issue" && r.status === "issuing" ? "Kirim ulang ke antrean penerbitan" : ACTIONS[action]))), status);
  const a = r.applicant || {};
  const facts = h("div", { class: "card" }, h("dl", { class: "facts" },
    h("dt", {}, "Status"), h("dd", {}, statusBadge(r.status), " ", slaBadge(r)),
    h("dt", {}, "Kode lacak"), h("dd", { class: "code" }, r.tracking_code),
    h("dt", {}, "Diajukan"), h("dd", {}, fmtDate(r.created_at)),
    h("dt", {}, "Tenggat"), h("dd", {}, fmtDate(r.due_at)),
    h("dt", {}, "Pemohon"), h("dd", {}, `${a.name || "-"} · NIK ${a.nik || "-"}`),
    h("dt", {}, "Tempat/tgl lahir"), h("dd", {}, `${a.birth_place || "-"}, ${a.birth_date || "-"}`),
    h("dt", {}, "Alamat"), h("dd", {}, `${a.address || "-"}${a.rt ? ` RT ${a.rt}` : ""}${a.rw ? `/RW ${a.rw}` : ""}`),
    r.identity_verified === false ? [h("dt", {}, "Identitas"), h("dd", {}, h("span", { class: "badge near" }, "Belum terverifikasi"),
      " NIK tidak ada di data penduduk desa: periksa dokumen pemohon langsung sebelum menyetujui.")] : null,
    r.identity_check ? [h("dt", {}, "Identitas"), h("dd", {}, `Diperiksa langsung (${r.identity_check.document}) oleh ${r.identity_check.by}, ${fmtDate(r.identity_check.at)}`)] : null,
    ...Object.entries(r.fields).map(([k, v]) => [h("dt", {}, labels[k] || k), h("dd", {}, String(v))]),
    r.letter && r.letter.number ? [h("dt", {}, "Nomor surat"), h("dd", {}, r.letter.number,
      r.letter.status === "revoked" ? h("span", { class: "badge revoked" }, " dicabut") : null)] : null));
  const att = attachmentsBox(r);
  const parts = [facts, att];
  if (mine && r.identity_verified === false && ["submitted", "in_review", "needs_revision"].includes(r.status)) {
    parts.push(identityBox(r));
  }
  parts.push(actions);
  if (r.status === "issued" && r.letter && r.letter.id && r.letter.status !== "revoked" && mine) parts.push(revokeBox(r));
  if (r.status === "issued") {
    parts.push(h("p", {}, h("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        const link = await call("GET", `/v1/requests/${r.id}/letter`);
        window.open(link.url, "_blank", "noopener");
      } catch (err) {
        mount(status, errorNotice(err));
      }
    } }, "Buka PDF surat")));
  }
  parts.push(h("h2", {}, "Riwayat"), h("ol", { class: "history card" }, ...r.history.map((e) => h("li", {},
    h("strong", {}, ACTIONS[e.action] || e.action), ` — ${e.actor} (${ROLE[e.actor_role] || e.actor_role}), ${fmtDate(e.at)}`,
    e.from && e.from !== e.to ? ` · ${STATUS[e.from] || e.from} → ${STATUS[e.to] || e.to}` : "",
    e.note ? h("div", {}, `Catatan: ${e.note}`) : null))));
  show(seq, `${r.letter_name}`, h("p", {}, h("a", { href: "#antrean" }, "← Kembali ke antrean")), ...parts);
  refreshWhileIssuing(r, () => seq === renderSeq && location.hash.includes(r.id), render);
}

function attachmentsBox(r) {
  const list = r.attachments || [];
  if (!list.length) return null;
  const msg = h("div", { "aria-live": "polite" });
  const shown = h("div", { class: "attachments-shown" });
  return h("div", { class: "card" }, h("h2", {}, "Lampiran"), h("ul", { class: "list" }, ...list.map((x) => h("li", {},
    h("div", { class: "row" }, h("span", {}, `${x.label}: ${x.filename}`),
      h("button", { type: "button", class: "secondary", onclick: async () => {
        try {
          const link = await call("GET", `/v1/requests/${r.id}/attachments/${encodeURIComponent(x.name)}`);
          window.open(link.url, "_blank", "noopener");
        } catch (err) {
          mount(msg, errorNotice(err));
        }
      } }, `Lihat ${x.label}`))))),
  list.length > 1 ? h("div", { class: "actions" }, h("button", { type: "button", onclick: async (e) => {
    // Every file at once, drawn in the page: one call for all of them, not one per file.
    e.target.disabled = true;
    try {
      const all = await call("GET", `/v1/requests/${r.id}/attachments`);
      mount(shown, ...all.items.map((x) => (x.expired ? notice("info", x.message)
        : h("figure", { class: "attachment" }, h("figcaption", {}, `${x.label}: ${x.filename}`),
          x.content_type.startsWith("image/")
            ? h("a", { href: x.url, target: "_blank", rel: "noopener" }, h("img", { src: x.url, alt: x.label, loading: "lazy" }))
            : h("a", { href: x.url, target: "_blank", rel: "noopener" }, `Buka ${x.label} (PDF)`)))));
    } catch (err) {
      e.target.disabled = false;
      mount(msg, errorNotice(err));
    }
  } }, "Tampilkan semua lampiran")) : null, shown, msg);
}

const IDENTITY_DOCUMENTS = ["KTP-el", "KK", "Akta Kelahiran", "Surat Keterangan Kependudukan", "Paspor"];

/** The operator's recorded in-person identity check, needed before approving an applicant the register lacks. */
function identityBox(r) {
  const doc = h("select", { name: "document" }, ...IDENTITY_DOCUMENTS.map((d) => h("option", { value: d }, d)));
  const note = h("input", { name: "note", maxlength: "1000" });
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", novalidate: true }, h("h2", {}, "Pemeriksaan identitas"),
    field("id-document", "Dokumen yang diperiksa langsung", doc), field("id-note", "Catatan (boleh dikosongkan)", note),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Catat pemeriksaan identitas")), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { action: "verify_identity", version: r.version, document: doc.value };
    if (note.value.trim()) body.note = note.value.trim();
    try {
      keepRequest(await call("POST", `/v1/requests/${r.id}/transitions`, { body }));
      flash = notice("ok", "Pemeriksaan identitas tercatat.");
      render();
    } catch (err) {
      mount(msg, errorNotice(err));
    }
  });
  return form;
}

function revokeBox(r) {
  const reason = h("textarea", { name: "reason", maxlength: "500" });
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", novalidate: true }, h("h2", {}, "Cabut surat"),
    h("p", {}, "Surat yang dicabut tampil \"DICABUT\" di halaman verifikasi. Tindakan ini tidak dapat dibatalkan."),
    field("reason", "Alasan pencabutan", reason),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, "Cabut surat")), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await call("POST", `/v1/letters/${r.letter.id}/revocation`, { body: { reason: reason.value.trim() } });
      flash = notice("ok", "Surat dicabut.");
      render();
    } catch (err) {
      const rest = showFieldErrors(form, err);
      mount(msg, errorNotice(err), ...rest.map((m) => notice("error", m)));
    }
  });
  return form;
}

// ---- failed notifications -----------------------------------------------------------------------
async function viewNotifications() {
  const seq = renderSeq;
  let chooser;
  try {
    chooser = await villageChooser(() => render());
  } catch (err) {
    return show(seq, "Notifikasi gagal", errorNotice(err));
  }
  const desa = village();
  if (!desa) return show(seq, "Notifikasi gagal", chooser);
  let page;
  try {
    page = await call("GET", `/v1/villages/${desa}/notifications?status=failed`);
  } catch (err) {
    return show(seq, "Notifikasi gagal", chooser, errorNotice(err));
  }
  const msg = h("div", { "aria-live": "polite" });
  show(seq, "Notifikasi gagal", chooser, msg, page.items.length === 0 ? h("p", {}, "Tidak ada notifikasi yang gagal terkirim.")
    : h("ul", { class: "list card" }, ...page.items.map((n) => h("li", {},
      h("div", { class: "row" }, h("strong", {}, n.messages.map((m) => m.event).join(", ")),
        h("span", { class: "muted" }, fmtDate(n.created_at))),
      h("div", {}, `${n.attempts} kali dicoba · ${n.last_error || ""}`, n.tracking_code ? ` · ${n.tracking_code}` : ""),
      h("button", { type: "button", class: "secondary", onclick: async () => {
        try {
          await call("POST", `/v1/notifications/${n.id}/resend`);
          flash = notice("ok", "Notifikasi dikirim ulang.");
          render();
        } catch (err) {
          mount(msg, errorNotice(err));
        }
      } }, "Kirim ulang")))));
}

// ---- letter settings ----------------------------------------------------------------------------
async function viewSettings() {
  const seq = renderSeq;
  let chooser;
  try {
    chooser = await villageChooser(() => render());
  } catch (err) {
    return show(seq, "Pengaturan surat", errorNotice(err));
  }
  const desa = village();
  if (!desa) return show(seq, "Pengaturan surat", chooser);
  let st;
  try {
    st = await call("GET", `/v1/villages/${desa}/letter-settings`);
  } catch (err) {
    return show(seq, "Pengaturan surat", chooser, errorNotice(err));
  }
  const input = (name, attrs = {}) => h("input", { name, value: st[name] || "", ...attrs });
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", novalidate: true },
    h("h2", {}, "Kop surat dan penomoran"),
    field("s-address", "Alamat kantor (kop surat)", input("address", { maxlength: "200" })),
    h("div", { class: "grid2" },
      field("s-postcode", "Kode pos", input("postcode", { inputmode: "numeric", maxlength: "5" })),
      field("s-phone", "Telepon kantor", input("phone", { type: "tel", maxlength: "30" }))),
    h("div", { class: "grid2" },
      field("s-email", "E-mail kantor", input("email", { type: "email", maxlength: "254" })),
      field("s-website", "Situs web", input("website", { maxlength: "200" }))),
    field("s-number_format", "Format nomor surat", input("number_format", { maxlength: "120" })),
    h("div", { class: "grid2" },
      field("s-sequence_mode", "Urutan nomor", h("select", { name: "sequence_mode" },
        h("option", { value: "village", selected: st.sequence_mode === "village" }, "Satu urutan untuk semua surat"),
        h("option", { value: "per_type", selected: st.sequence_mode === "per_type" }, "Satu urutan per jenis surat"))),
      field("s-paper", "Ukuran kertas", h("select", { name: "paper" },
        ...["A4", "F4"].map((p) => h("option", { value: p, selected: st.paper === p }, p))))),
    h("p", { class: "hint" }, `Penanda tangan: ${st.signer || st.default_signer_position}. Nama, jabatan dan NIP dicetak dari profil petugas yang menerbitkan.`),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Simpan pengaturan")), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { version: st.version };
    for (const el of form.elements) if (el.name && el.value.trim() !== "") body[el.name] = el.value.trim();
    try {
      st = await call("PUT", `/v1/villages/${desa}/letter-settings`, { body });
      flash = notice("ok", "Pengaturan tersimpan.");
      render();
    } catch (err) {
      const rest = showFieldErrors(form, err);
      mount(msg, errorNotice(err), ...rest.map((m) => notice("error", m)));
    }
  });
  const logo = h("input", { type: "file", name: "logo", accept: "image/png,image/jpeg" });
  const logoMsg = h("div", { "aria-live": "polite" });
  const logoForm = h("form", { class: "card", novalidate: true }, h("h2", {}, "Lambang di kop surat"),
    h("p", {}, st.logo_key ? "Lambang sudah terpasang." : "Belum ada lambang."),
    field("s-logo", "Berkas lambang (PNG atau JPEG, paling besar 200 KB)", logo),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Unggah lambang"),
      st.logo_key ? h("button", { type: "button", class: "secondary", onclick: async () => {
        try {
          await call("DELETE", `/v1/villages/${desa}/letter-settings/logo`);
          flash = notice("ok", "Lambang dihapus.");
          render();
        } catch (err) {
          mount(logoMsg, errorNotice(err));
        }
      } }, "Hapus lambang") : null), logoMsg);
  logoForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = logo.files[0];
    if (!file) return mount(logoMsg, notice("error", "Pilih berkas lambang terlebih dahulu."));
    try {
      await call("PUT", `/v1/villages/${desa}/letter-settings/logo`, { raw: file, headers: { "Content-Type": file.type || "application/octet-stream" } });
      flash = notice("ok", "Lambang terpasang.");
      render();
    } catch (err) {
      mount(logoMsg, errorNotice(err));
    }
  });
  show(seq, "Pengaturan surat", chooser, form, logoForm);
}

// ---- letter types of the village ----------------------------------------------------------------------
const MANAGERS = ["operator", "kades", "admin"];

async function viewLetterTypes() {
  const seq = renderSeq;
  const s = session();
  let chooser;
  try {
    chooser = await villageChooser(() => render());
  } catch (err) {
    return show(seq, "Jenis surat", errorNotice(err));
  }
  const desa = village();
  if (!desa) return show(seq, "Jenis surat", chooser);
  if (!MANAGERS.includes(s.role)) {
    return show(seq, "Jenis surat", chooser, notice("info", "Hanya operator, kepala desa/lurah dan admin yang dapat mengubah jenis surat."));
  }
  let list;
  try {
    list = await call("GET", `/v1/villages/${desa}/letter-types?include_disabled=true`);
  } catch (err) {
    return show(seq, "Jenis surat", chooser, errorNotice(err));
  }
  let version = list.version;
  const msg = h("div", { "aria-live": "polite" });
  const rows = list.items.map((t) => {
    const enabled = h("input", { type: "checkbox", name: "enabled", checked: t.enabled });
    const sla = h("input", { name: "sla_hours", inputmode: "numeric", value: String(t.sla_hours) });
    const signer = h("select", { name: "signer_role" },
      h("option", { value: "kades", selected: t.signer_role === "kades" }, "Kepala desa/lurah"),
      h("option", { value: "operator", selected: t.signer_role === "operator" }, "Operator"));
    const form = h("form", { class: "card", novalidate: true, "data-type": t.code }, h("h2", {}, `${t.name} (${t.code})`),
      h("div", { class: "field" }, h("label", { for: `lt-${t.code}-on` }, Object.assign(enabled, { id: `lt-${t.code}-on` }), "Dilayani di desa ini")),
      h("div", { class: "grid2" }, field(`lt-${t.code}-sla`, "Batas waktu (jam kerja)", sla),
        field(`lt-${t.code}-signer`, "Penanda tangan", signer)),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Simpan")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { version, enabled: enabled.checked, signer_role: signer.value };
      const hours = sla.value.trim();
      body.sla_hours = /^[0-9]+$/.test(hours) ? Number(hours) : hours;
      mount(msg, notice("info", `${t.name}: menyimpan…`)); // the previous answer goes, so none is read twice
      try {
        const saved = await call("PUT", `/v1/villages/${desa}/letter-types/${t.code}`, { body });
        version = saved.village_version;
        mount(msg, notice("ok", `${t.name}: tersimpan.`));
        form.querySelectorAll(".field-error").forEach((x) => x.remove());
      } catch (err) {
        const rest = showFieldErrors(form, err);
        mount(msg, errorNotice(err), ...rest.map((m) => notice("error", m)),
          err.code === "stale_version" ? notice("info", "Pengaturan diubah orang lain. Muat ulang halaman.") : null);
      }
    });
    return form;
  });
  show(seq, "Jenis surat", chooser, msg, ...rows);
}

// ---- my account, and the staff accounts of a region (admin, camat) -------------------------------------
const ACCOUNT_ROLES = { admin: ["admin", "opd", "camat", "operator", "kades"], camat: ["operator", "kades"] };

async function viewAccounts() {
  const seq = renderSeq;
  const s = session();
  const parts = [];
  try {
    parts.push(await ownProfileBox());
  } catch (err) {
    parts.push(errorNotice(err));
  }
  if (ACCOUNT_ROLES[s.role]) {
    const code = h("input", { name: "region", value: new URLSearchParams(location.hash.split("?")[1] || "").get("wilayah")
      || village() || s.region, inputmode: "decimal", autocomplete: "off" });
    const pick = h("form", { class: "card", novalidate: true }, h("h2", {}, "Akun petugas"),
      field("acc-region", "Kode wilayah (desa/kelurahan, kecamatan atau kabupaten)", code),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Tampilkan akun")));
    pick.addEventListener("submit", (e) => {
      e.preventDefault();
      go(`akun?wilayah=${encodeURIComponent(code.value.trim())}`);
    });
    parts.push(pick);
    const region = code.value.trim();
    try {
      const list = await call("GET", `/v1/regions/${encodeURIComponent(region)}/staff`);
      parts.push(accountsTable(list.items), createAccountForm(region, ACCOUNT_ROLES[s.role]));
    } catch (err) {
      parts.push(errorNotice(err));
    }
  }
  show(seq, "Akun", ...parts);
}

async function ownProfileBox() {
  let me = await call("GET", "/v1/me/staff-profile");
  const name = h("input", { name: "name", value: me.name || "", maxlength: "120" });
  const position = h("input", { name: "position", value: me.position || "", maxlength: "120" });
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", novalidate: true }, h("h2", {}, `Profil saya (${me.username})`),
    h("p", { class: "hint" }, "Nama dan jabatan ini dicetak di bawah tanda tangan surat. NIP diatur oleh admin/camat."),
    field("me-name", "Nama lengkap dengan gelar", name), field("me-position", "Jabatan", position),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Simpan profil")), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      me = await call("PUT", "/v1/me/staff-profile", { body: { version: me.version, name: name.value.trim(), position: position.value.trim() } });
      mount(msg, notice("ok", "Profil tersimpan."));
    } catch (err) {
      const rest = showFieldErrors(form, err);
      mount(msg, errorNotice(err), ...rest.map((m) => notice("error", m)));
    }
  });
  return form;
}

function accountsTable(items) {
  const msg = h("div", { "aria-live": "polite" });
  if (!items.length) return h("p", {}, "Belum ada akun di wilayah ini.");
  return h("div", {}, msg, h("table", { class: "queue" },
    h("thead", {}, h("tr", {}, ...["Akun", "Nama dan jabatan", "Peran", "Status", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, ...items.map((a) => h("tr", {},
      h("td", { class: "code" }, a.username),
      h("td", {}, a.name, a.position ? h("div", { class: "muted" }, a.position) : null),
      h("td", { "data-label": "Peran" }, ROLE[a.role] || a.role),
      h("td", {}, h("span", { class: `badge ${a.active ? "valid" : "revoked"}` }, a.active ? "Aktif" : "Nonaktif")),
      h("td", {}, h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: async () => {
          try {
            await call("PATCH", `/v1/staff/${encodeURIComponent(a.username)}`, { body: { version: a.version, active: !a.active } });
            flash = notice("ok", `${a.username}: ${a.active ? "dinonaktifkan" : "diaktifkan"}.`);
            render();
          } catch (err) {
            mount(msg, errorNotice(err));
          }
        } }, a.active ? "Nonaktifkan" : "Aktifkan"),
        h("button", { type: "button", class: "secondary", onclick: async () => {
          if (!confirm(`Buat kata sandi baru untuk ${a.username}? Sesi akun ini akan berakhir.`)) return;
          try {
            const reset = await call("POST", `/v1/staff/${encodeURIComponent(a.username)}/password-reset`);
            mount(msg, notice("ok", `${reset.message} Kata sandi sementara ${reset.username}: `),
              h("p", { class: "code", id: "temporary-password" }, reset.temporary_password));
          } catch (err) {
            mount(msg, errorNotice(err));
          }
        } }, "Atur ulang kata sandi"))))))));
}

function createAccountForm(region, roles) {
  const input = (name, attrs = {}) => h("input", { name, ...attrs });
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", novalidate: true }, h("h2", {}, `Akun baru di wilayah ${region}`),
    h("div", { class: "grid2" },
      field("new-username", "Nama pengguna", input("username", { autocapitalize: "none", autocomplete: "off" })),
      field("new-password", "Kata sandi awal (minimal 10 karakter)", input("password", { type: "password", autocomplete: "new-password" }))),
    field("new-role", "Peran", h("select", { name: "role" }, ...roles.map((r) => h("option", { value: r }, ROLE[r] || r)))),
    field("new-name", "Nama lengkap dengan gelar", input("name", { maxlength: "120" })),
    h("div", { class: "grid2" }, field("new-position", "Jabatan", input("position", { maxlength: "120" })),
      field("new-nip", "NIP (boleh dikosongkan)", input("nip", { inputmode: "numeric", maxlength: "24" }))),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Buat akun")), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {};
    for (const el of form.elements) if (el.name && el.value.trim() !== "") body[el.name] = el.name === "password" ? el.value : el.value.trim();
    try {
      const made = await call("POST", `/v1/regions/${encodeURIComponent(region)}/staff`, { body });
      flash = notice("ok", `Akun ${made.username} dibuat.`);
      render();
    } catch (err) {
      const rest = showFieldErrors(form, err);
      mount(msg, errorNotice(err), ...rest.map((m) => notice("error", m)));
    }
  });
  return form;
}

// ---- router -------------------------------------------------------------------------------------
async function render() {
  renderSeq += 1;
  const route = location.hash.replace(/^#/, "").split("?")[0] || (session() ? "antrean" : "masuk");
  const [name, arg] = route.split("/");
  setMenu(name);
  if (!session()) return name === "masuk" ? viewLogin() : go("masuk");
  if (name === "masuk") return go(session().role === "opd" ? "pengaduan" : "antrean");
  if (session().role === "opd" && !["pengaduan", "akun"].includes(name)) return go("pengaduan"); // OPDs handle complaints only
  if (name === "permohonan" && arg) return viewRequest(arg);
  if (name === "pengaduan") {
    const { renderStaffComplaints } = await import("./staff-complaints.js");
    return renderStaffComplaints(arg, { call, show, seq: () => renderSeq, go, errorNotice, session });
  }
  if (name === "notifikasi") return viewNotifications();
  if (name === "pengaturan") return viewSettings();
  if (name === "jenis-surat") return viewLetterTypes();
  if (name === "akun") return viewAccounts();
  if (name === "ringkasan") {
    const seq = renderSeq;
    try {
      return show(seq, "Ringkasan wilayah", ...(await districtNodes(call, session().region)));
    } catch (err) {
      return show(seq, "Ringkasan wilayah", errorNotice(err));
    }
  }
  if (name === "pesan") return viewMessages({ call, show, seq: renderSeq, errorNotice, session });
  return viewQueue();
}

window.addEventListener("hashchange", () => render().then(() => main.focus({ preventScroll: true })));
render();
registerServiceWorker();
