// Public complaints page: a village's public complaints, newest first ("Muat lagi" for the next page), and one
// complaint's detail (map-free, no personal data). ?desa=<code> picks the village, &id=<id> opens one.
import { api, h, loadConfig, mount, notice, registerServiceWorker, setTimeZone, fmtDate, NetworkError } from "./lib.js";
import { C_KIND, complaintBadge, complaintCard, kabupatenOf, unitName, villagePicker } from "./complaints.js";

const out = document.getElementById("result");
const picker = document.getElementById("picker");
const params = new URLSearchParams(location.search);

function problem(err) {
  return notice("error", err instanceof NetworkError
    ? "Tidak dapat terhubung ke server. Periksa koneksi internet Anda lalu coba lagi." : err.message);
}

function go(desa, id) {
  const q = new URLSearchParams();
  if (desa) q.set("desa", desa);
  if (id) q.set("id", id);
  history.pushState(null, "", `/pengaduan/?${q}`);
  show(desa, id);
}

async function showList(desa) {
  mount(out, h("p", { class: "muted" }, "Memuat…"));
  const list = h("ul", { class: "list" });
  const more = h("div", {});
  async function page(cursor) {
    let answer;
    try {
      answer = await api("GET", `/v1/villages/${desa}/complaints/public?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    } catch (err) {
      return mount(more, problem(err));
    }
    for (const c of answer.items) {
      list.append(h("li", {}, h("a", { href: `/pengaduan/?desa=${desa}&id=${c.id}`, onclick: (e) => { e.preventDefault(); go(desa, c.id); } },
        c.title), h("div", { class: "row muted" }, complaintBadge(c.status), ` ${C_KIND[c.kind] || c.kind} · ${c.category_name} · ${unitName(c)} · ${fmtDate(c.created_at, false)}`)));
    }
    if (!list.children.length) list.replaceWith(h("p", {}, "Belum ada pengaduan publik di desa/kelurahan ini."));
    mount(more, answer.next ? h("button", { type: "button", class: "secondary", onclick: () => page(answer.next) }, "Muat lagi") : null);
  }
  mount(out, h("h2", {}, "Daftar pengaduan"), list, more);
  await page(null);
}

async function showOne(desa, id) {
  mount(out, h("p", { class: "muted" }, "Memuat…"));
  try {
    const c = await api("GET", `/v1/complaints/${encodeURIComponent(id)}`);
    mount(out, h("p", {}, h("a", { href: `/pengaduan/?desa=${desa}`, onclick: (e) => { e.preventDefault(); go(desa, null); } }, "← Kembali ke daftar")),
      complaintCard(c, (method, path) => api(method, path)));
  } catch (err) {
    mount(out, problem(err));
  }
}

function show(desa, id) {
  if (!desa) return mount(out, h("p", {}, "Pilih kecamatan dan desa/kelurahan untuk melihat pengaduannya."));
  return id ? showOne(desa, id) : showList(desa);
}

async function start() {
  const cfg = await loadConfig();
  const kabupaten = cfg.region || kabupatenOf(params.get("desa")) || "73.07";
  try {
    const kab = await api("GET", `/v1/regions/${kabupaten}`);
    setTimeZone(kab.timezone);
  } catch (err) {
    /* times fall back to WITA */
  }
  const status = h("div", { "aria-live": "polite" });
  mount(picker, await villagePicker(kabupaten, params.get("desa") || "", (code) => {
    if (code !== new URLSearchParams(location.search).get("desa")) go(code, null);
  }, status), status);
  show(params.get("desa"), params.get("id"));
}

window.addEventListener("popstate", () => {
  const p = new URLSearchParams(location.search);
  show(p.get("desa"), p.get("id"));
});
start();
registerServiceWorker();
