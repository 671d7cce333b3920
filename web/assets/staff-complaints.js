// Staff console, complaints: the queue of the village (operator, kades; camat and admin for the village they
// picked) or of the officer's OPD, by status with SLA badges, and one complaint with exactly the actions of
// the caller's role: acknowledge, start, resolve, reject, close, reroute, hide, redact.
import { fmtDate, h, mount, notice } from "./lib.js";
import { C_ACTIONS, C_KIND, C_STATUS, complaintBadge, complaintCard, kabupatenOf, slaBadge } from "./complaints.js";

const VILLAGE_KEY = "balai.staff.village";
const VILLAGE_STAFF = ["operator", "kades"];
// The state machine as the API enforces it (chalicelib/domain/complaints.py TRANSITIONS), for the staff side.
const STAFF_ACTIONS = {
  acknowledge: { from: ["open"], who: ["unit"] },
  start: { from: ["open", "acknowledged"], who: ["unit"] },
  resolve: { from: ["acknowledged", "in_progress"], who: ["unit"], note: "Apa yang sudah dilakukan" },
  close: { from: ["resolved"], who: ["unit"] },
  reject: { from: ["open", "acknowledged", "in_progress"], who: ["unit"], note: "Alasan penolakan" },
  reroute: { from: ["open", "acknowledged", "in_progress"], who: ["unit", "admin"], note: "Alasan pengalihan" },
  hide: { from: Object.keys(C_STATUS), who: ["unit", "admin"], note: "Alasan disembunyikan dari publik" },
  redact: { from: Object.keys(C_STATUS), who: ["unit", "admin"], note: "Alasan penyuntingan" },
};

/** Is the caller the complaint's handling unit (the village's operator/kades, or the assigned OPD's officer)? */
function isUnit(s, c, opd) {
  if (c.unit.type === "village") return VILLAGE_STAFF.includes(s.role) && s.region === c.unit.code;
  return s.role === "opd" && s.region === c.kabupaten && opd === c.unit.code;
}

async function ownOpd(ctx) {
  try {
    return (await ctx.call("GET", "/v1/me/staff-profile")).opd || "";
  } catch (err) {
    return "";
  }
}

/** Route "pengaduan" (queue, ?status in the hash after a colon) or "pengaduan/<id>". ctx: {call, show, seq, go, errorNotice, session}. */
export function renderStaffComplaints(arg, ctx) {
  if (arg && !arg.startsWith("status:")) return viewOne(arg, ctx);
  return viewQueue(arg ? arg.slice(7) : "open", ctx);
}

async function viewQueue(status, ctx) {
  const seq = ctx.seq();
  const s = ctx.session();
  let path;
  let where;
  if (s.role === "opd") {
    const opd = await ownOpd(ctx);
    path = `/v1/kabupaten/${s.region}/opds/${encodeURIComponent(opd)}/complaints`;
    where = `OPD ${opd}`;
  } else {
    const village = VILLAGE_STAFF.includes(s.role) ? s.region : localStorage.getItem(VILLAGE_KEY) || "";
    if (!village) {
      return ctx.show(seq, "Pengaduan", notice("info", "Pilih desa/kelurahan lebih dulu di menu Antrean."));
    }
    path = `/v1/villages/${village}/complaints`;
    where = village;
  }
  const tabs = h("nav", { class: "tabs", "aria-label": "Status pengaduan" }, ...Object.entries(C_STATUS).map(([code, label]) =>
    h("a", { href: `#pengaduan/status:${code}`, "aria-current": code === status ? "page" : null }, label)));
  let page;
  try {
    page = await ctx.call("GET", `${path}?status=${status}&limit=50`);
  } catch (err) {
    return ctx.show(seq, "Pengaduan", tabs, ctx.errorNotice(err));
  }
  if (s.role !== "opd" && page.items.length && page.items[0].village_name) where = page.items[0].village_name;
  const rows = page.items.map((c) => h("tr", {},
    h("td", {}, h("a", { href: `#pengaduan/${c.id}` }, c.title)),
    h("td", {}, `${C_KIND[c.kind] || c.kind} · ${c.category_name || c.category}`),
    h("td", {}, complaintBadge(c.status), " ", slaBadge(c)),
    h("td", {}, fmtDate(c.created_at)),
    h("td", {}, fmtDate(c.due_at))));
  ctx.show(seq, "Pengaduan", h("p", { class: "muted" }, `Antrean ${where}, terbaru di atas.`), tabs,
    rows.length ? h("table", { class: "queue" }, h("thead", {}, h("tr", {}, ...["Judul", "Kategori", "Status", "Masuk", "Tenggat"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, ...rows)) : h("p", {}, `Tidak ada pengaduan berstatus ${C_STATUS[status] || status}.`));
}

async function viewOne(id, ctx) {
  const seq = ctx.seq();
  const s = ctx.session();
  let c;
  try {
    c = await ctx.call("GET", `/v1/complaints/${encodeURIComponent(id)}`);
  } catch (err) {
    return ctx.show(seq, "Pengaduan", ctx.errorNotice(err));
  }
  const opd = s.role === "opd" ? await ownOpd(ctx) : "";
  const unit = isUnit(s, c, opd);
  const admin = s.role === "admin";
  const status = h("div", { "aria-live": "polite" });
  const forms = [];
  for (const [action, rule] of Object.entries(STAFF_ACTIONS)) {
    if (!rule.from.includes(c.status)) continue;
    if (!((unit && rule.who.includes("unit")) || (admin && rule.who.includes("admin")))) continue;
    if (action === "hide" && (c.hidden || !c.public)) continue;
    forms.push(actionForm(action, rule, c, ctx, status));
  }
  ctx.show(seq, "Pengaduan", h("p", {}, h("a", { href: "#pengaduan" }, "← Antrean pengaduan")),
    complaintCard(c, ctx.call, { staff: true }), status,
    forms.length ? h("section", {}, h("h2", {}, "Tindakan"), ...forms)
      : h("p", { class: "muted" }, unit || admin ? "Tidak ada tindakan pada status ini." : "Anda hanya dapat membaca pengaduan ini."));
}

function actionForm(action, rule, c, ctx, status) {
  const id = `a-${action}`;
  const fields = [];
  const note = rule.note ? h("textarea", { name: "note", id: `${id}-note`, maxlength: "1000", rows: "2", required: true }) : null;
  let target = null;
  if (action === "reroute") {
    // Every unit but the current one: the village itself, or an OPD of the kabupaten.
    target = h("select", { name: "unit", id: `${id}-unit` },
      c.unit.type === "village" ? null : h("option", { value: "village" }, `Desa/kelurahan ${c.village_name || c.village}`));
    ctx.call("GET", `/v1/kabupaten/${kabupatenOf(c.village)}/complaint-categories`).then((cfg) => {
      for (const o of cfg.opds) {
        if (!(c.unit.type === "opd" && c.unit.code === o.code)) target.append(h("option", { value: `opd:${o.code}` }, o.name));
      }
    }).catch(() => {});
    fields.push(h("div", { class: "field" }, h("label", { for: `${id}-unit` }, "Alihkan ke"), target));
  }
  if (action === "redact") {
    target = h("select", { name: "target", id: `${id}-target` }, h("option", { value: "text" }, "Uraian"),
      h("option", { value: "title" }, "Judul"), ...(c.photos || []).filter((p) => !p.hidden).map((p, i) => h("option", { value: `photo:${p.id}` }, `Foto ${i + 1}`)));
    fields.push(h("div", { class: "field" }, h("label", { for: `${id}-target` }, "Yang disunting"), target));
  }
  if (note) fields.push(h("div", { class: "field" }, h("label", { for: `${id}-note` }, rule.note), note));
  const button = h("button", { type: "submit", class: ["reject", "hide", "redact"].includes(action) ? "danger" : null }, C_ACTIONS[action]);
  const form = h("form", { class: "card action", novalidate: true }, ...fields, h("div", { class: "actions" }, button));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (note && !note.value.trim()) return mount(status, notice("error", `${rule.note} wajib diisi.`));
    const body = { action, version: c.version };
    if (note) body.note = note.value.trim();
    if (action === "reroute") body.unit = target.value === "village" ? { type: "village" } : { type: "opd", code: target.value.slice(4) };
    if (action === "redact") body.target = target.value;
    button.disabled = true;
    try {
      await ctx.call("POST", `/v1/complaints/${c.id}/transitions`, { body });
      ctx.go(`pengaduan/${c.id}`);
    } catch (err) {
      mount(status, ctx.errorNotice(err));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
