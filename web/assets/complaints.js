// Complaints (pengaduan) shared by the citizen portal, the staff console and the public page: labels, the
// SLA badge, the detail card (map-free), photos through short-lived links, a village picker.
import { api, fmtDate, h, mount, notice } from "./lib.js";

export const C_STATUS = {
  open: "Terbuka",
  acknowledged: "Diterima petugas",
  in_progress: "Sedang ditangani",
  resolved: "Selesai ditangani",
  closed: "Ditutup",
  rejected: "Ditolak",
};
export const C_KIND = { complaint: "Pengaduan", aspiration: "Aspirasi" };
export const C_ACTIONS = {
  file: "Diajukan",
  acknowledge: "Terima",
  start: "Mulai tangani",
  resolve: "Selesaikan",
  close: "Tutup",
  reject: "Tolak",
  reopen: "Buka kembali",
  rate: "Beri penilaian",
  reroute: "Alihkan",
  hide: "Sembunyikan dari publik",
  redact: "Sunting isi/foto",
  sla_reminder: "Pengingat tenggat",
  sla_escalation_kecamatan: "Dieskalasi ke kecamatan",
  sla_escalation_kabupaten: "Dieskalasi ke kabupaten",
};
const ACTIVE = ["open", "acknowledged", "in_progress"];

export function complaintBadge(status) {
  return h("span", { class: `badge cst-${status}` }, C_STATUS[status] || status);
}

/** "overdue" past due_at, "near" in the last fifth of the SLA, else null (only while the unit must act). */
export function complaintSla(c, now = Date.now()) {
  if (!ACTIVE.includes(c.status) || !c.due_at) return null;
  const due = Date.parse(c.due_at);
  if (Number.isNaN(due)) return null;
  if (now > due) return "overdue";
  return (due - now) / 3.6e6 <= 0.2 * (c.sla_hours || 8) ? "near" : null;
}

export function slaBadge(c) {
  const state = complaintSla(c);
  if (state === "overdue") return h("span", { class: "badge overdue" }, "lewat tenggat");
  if (state === "near") return h("span", { class: "badge near" }, "hampir tenggat");
  return null;
}

export function unitName(c) {
  return (c.unit && c.unit.name) || (c.unit && c.unit.type === "village" ? c.village_name : c.unit && c.unit.code) || "-";
}

/** A photo list: each opens through a fresh 5-minute link (the API decides who may see which photo). */
export function photoList(c, call) {
  if (!c.photos || !c.photos.length) return null;
  return h("ul", { class: "photos" }, ...c.photos.map((p, i) => h("li", {},
    h("button", { type: "button", class: "link", onclick: async (e) => {
      const btn = e.currentTarget;
      try {
        const link = await call("GET", `/v1/complaints/${encodeURIComponent(c.id)}/photos/${encodeURIComponent(p.id)}`);
        window.open(link.url, "_blank", "noopener");
      } catch (err) {
        btn.after(notice("error", err.message));
      }
    } }, `Foto ${i + 1}`), p.hidden ? h("span", { class: "badge overdue" }, "disembunyikan") : null)));
}

/** The complaint as a card of facts (no map: the location is shown as coordinates), text and history. */
export function complaintCard(c, call, { staff = false } = {}) {
  return h("section", { class: "card" },
    h("h2", {}, c.title),
    h("dl", { class: "facts" },
      h("dt", {}, "Nomor"), h("dd", { class: "code" }, c.reference || c.id),
      h("dt", {}, "Jenis"), h("dd", {}, `${C_KIND[c.kind] || c.kind} · ${c.category_name || c.category}`),
      h("dt", {}, "Status"), h("dd", {}, complaintBadge(c.status), " ", slaBadge(c)),
      h("dt", {}, "Desa/kelurahan"), h("dd", {}, c.village_name || c.village),
      h("dt", {}, "Ditangani"), h("dd", {}, unitName(c)),
      h("dt", {}, "Diajukan"), h("dd", {}, fmtDate(c.created_at)),
      c.due_at ? [h("dt", {}, "Target selesai"), h("dd", {}, fmtDate(c.due_at))] : null,
      c.lat !== null && c.lat !== undefined ? [h("dt", {}, "Lokasi"), h("dd", {}, `${c.lat}, ${c.lon}`)] : null,
      c.public !== undefined ? [h("dt", {}, "Tampil publik"), h("dd", {}, c.public ? (c.hidden ? "Disembunyikan petugas" : "Ya") : "Tidak")] : null,
      c.rating ? [h("dt", {}, "Penilaian"), h("dd", {}, `${"★".repeat(c.rating)}${"☆".repeat(5 - c.rating)}`)] : null,
      staff && c.reporter ? [h("dt", {}, "Pelapor"), h("dd", {}, [c.reporter.name, c.reporter.nik].filter(Boolean).join(" · ") || "-")] : null),
    h("p", { class: "complaint-text" }, c.text),
    photoList(c, call),
    h("h3", {}, "Riwayat"),
    h("ol", { class: "history" }, ...(c.history || []).map((e) => h("li", {},
      `${C_ACTIONS[e.action] || e.action}${e.to && e.to !== e.from ? ` → ${C_STATUS[e.to] || e.to}` : ""} — ${fmtDate(e.at)}`,
      e.note ? h("span", { class: "muted" }, ` · ${e.note}`) : null))));
}

/** Kecamatan then desa/kelurahan selects of the kabupaten; onPick(code, name) when a village is chosen. */
export async function villagePicker(kabupaten, initial, onPick, status) {
  const kecSel = h("select", { name: "kecamatan" });
  const desaSel = h("select", { name: "village" });
  let kab;
  try {
    kab = await api("GET", `/v1/regions/${kabupaten}`);
  } catch (err) {
    mount(status, notice("error", err.message));
    return h("div");
  }
  mount(kecSel, h("option", { value: "" }, "— pilih kecamatan —"),
    ...kab.children.map((k) => h("option", { value: k.code, selected: initial && initial.startsWith(`${k.code}.`) },
      k.active ? k.name : `${k.name} (belum aktif)`)));
  async function loadDesa(selected) {
    mount(desaSel, h("option", { value: "" }, "— pilih desa/kelurahan —"));
    if (!kecSel.value) return;
    try {
      const kec = await api("GET", `/v1/regions/${kecSel.value}`);
      for (const d of kec.children) {
        desaSel.append(h("option", { value: d.code, disabled: !d.active, selected: d.code === selected },
          `${d.level === "kelurahan" ? "Kelurahan" : "Desa"} ${d.name}${d.active ? "" : " (belum aktif)"}`));
      }
      if (desaSel.value) onPick(desaSel.value, desaSel.selectedOptions[0].textContent);
    } catch (err) {
      mount(status, notice("error", err.message));
    }
  }
  kecSel.addEventListener("change", () => loadDesa(""));
  desaSel.addEventListener("change", () => desaSel.value && onPick(desaSel.value, desaSel.selectedOptions[0].textContent));
  kecSel.id = "c-kecamatan";
  desaSel.id = "c-desa";
  if (kecSel.value) loadDesa(initial);
  return h("div", { class: "grid2" },
    h("div", { class: "field" }, h("label", { for: "c-kecamatan" }, "Kecamatan"), kecSel),
    h("div", { class: "field" }, h("label", { for: "c-desa" }, "Desa/kelurahan"), desaSel));
}

/** "73.07.03.1001" -> "73.07". */
export function kabupatenOf(code) {
  return String(code || "").split(".").slice(0, 2).join(".");
}
