// Public transparency dashboard: a region's monthly figures (inline SVG charts), its children ranked, open data.
import { NetworkError, api, h, loadConfig, mount, notice, registerServiceWorker } from "./lib.js";

const out = document.getElementById("stats");
const form = document.getElementById("range");
const LEVEL = { kabupaten: "Kabupaten", kecamatan: "Kecamatan", desa: "Desa", kelurahan: "Kelurahan" };
const CHILD = { kabupaten: "Kecamatan", kecamatan: "Desa/kelurahan" };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"];
const SVG = "http://www.w3.org/2000/svg";

const num = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("id-ID"));
const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toLocaleString("id-ID", { maximumFractionDigits: 1 })}%`);
const hours = (x) => (x === null || x === undefined ? "–" : x < 48 ? `${num(Math.round(x * 10) / 10)} jam` : `${num(Math.round(x / 2.4) / 10)} hari`);
const monthLabel = (m) => `${MONTHS[Number(m.slice(5)) - 1]} ${m.slice(2, 4)}`;

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) el.append(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

/** Grouped bars per month (one colour per series), with a visually hidden table for screen readers. */
function barChart(title, months, series) {
  const width = 640, height = 220, left = 34, bottom = 28, top = 10;
  const max = Math.max(1, ...series.flatMap((x) => months.map(x.value)));
  const slot = (width - left) / months.length;
  const bar = Math.max(2, (slot - 6) / series.length);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  for (const t of [0, 0.5, 1]) {
    svg.append(s("line", { x1: left, x2: width, y1: y(max * t), y2: y(max * t), class: "grid" }),
      s("text", { x: left - 4, y: y(max * t) + 4, "text-anchor": "end", class: "tick" }, num(Math.round(max * t))));
  }
  months.forEach((m, i) => {
    series.forEach((x, j) => {
      const v = x.value(m) || 0;
      svg.append(s("rect", { x: left + i * slot + 3 + j * bar, y: y(v), width: bar - 1, height: y(0) - y(v), class: x.cls },
        s("title", {}, `${monthLabel(m.month)}: ${x.name} ${num(v)}`)));
    });
    if (months.length <= 12 || i % 2 === 0) {
      svg.append(s("text", { x: left + i * slot + slot / 2, y: height - 8, "text-anchor": "middle", class: "tick" }, monthLabel(m.month)));
    }
  });
  const legend = h("p", { class: "legend" }, ...series.map((x) => h("span", {}, h("i", { class: `key ${x.cls}` }), x.name)));
  const table = h("table", { class: "sr-only" }, h("caption", {}, title),
    h("tr", {}, h("th", {}, "Bulan"), ...series.map((x) => h("th", {}, x.name))),
    ...months.map((m) => h("tr", {}, h("td", {}, monthLabel(m.month)), ...series.map((x) => h("td", {}, num(x.value(m)))))));
  return h("figure", { class: "card chart-card" }, h("figcaption", {}, h("h2", {}, title)), svg, legend, table);
}

/** "Kecamatan Sinjai Timur", "Kabupaten Sinjai" (imported kabupaten names already carry their level). */
function regionTitle(r) {
  const level = LEVEL[r.level] || "";
  return r.name.toLowerCase().startsWith(level.toLowerCase()) ? r.name : `${level} ${r.name}`.trim();
}

function tile(label, value, hint) {
  return h("div", { class: "tile" }, h("span", { class: "label" }, label), h("strong", {}, value), hint ? h("span", { class: "hint" }, hint) : null);
}

function ranking(stats, query) {
  const kids = stats.children;
  if (!kids.length) return null;
  return h("section", { class: "card" }, h("h2", {}, `Peringkat ${CHILD[stats.region.level].toLowerCase()}`),
    h("p", { class: "hint" }, "Diurutkan menurut bagian surat yang terbit dalam batas waktu layanan (SLA)."),
    h("div", { class: "scroll" }, h("table", { class: "ranking" },
      h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, CHILD[stats.region.level]), h("th", {}, "Permohonan"),
        h("th", {}, "Surat terbit"), h("th", {}, "Tepat waktu"), h("th", {}, "Median terbit"), h("th", {}, "Pengaduan selesai"))),
      h("tbody", {}, ...kids.map((c, i) => h("tr", {},
        h("td", {}, String(i + 1)),
        h("td", {}, h("a", { href: `/transparansi/?wilayah=${c.code}&${query}` }, c.name), c.active ? null : h("span", { class: "muted" }, " (belum aktif)")),
        h("td", {}, num(c.requests)), h("td", {}, num(c.letters_issued)), h("td", {}, pct(c.share_within_sla)),
        h("td", {}, hours(c.median_hours_to_issue)), h("td", {}, num(c.complaints_resolved))))))));
}

function render(stats, cfg, query) {
  const t = stats.totals;
  const base = `${cfg.apiBase}/v1/stats/regions/${stats.region.code}`;
  const up = stats.region.parent && stats.region.level !== "kabupaten"
    ? h("p", {}, h("a", { href: `/transparansi/?wilayah=${stats.region.parent}&${query}` }, "← Wilayah induk")) : null;
  mount(out,
    h("h2", {}, regionTitle(stats.region)),
    h("p", { class: "muted" }, `${monthLabel(stats.from)} – ${monthLabel(stats.to)}`),
    up,
    h("div", { class: "tiles" },
      tile("Permohonan", num(t.requests)), tile("Surat terbit", num(t.letters_issued)),
      tile("Tepat waktu", pct(t.share_within_sla), `${num(t.issued_within_sla)} dari ${num(t.letters_issued)} surat`),
      tile("Median waktu terbit", hours(t.median_hours_to_issue), `90% dalam ${hours(t.p90_hours_to_issue)}`),
      tile("Diminta perbaikan", num(t.revisions)), tile("Ditolak", num(t.rejections)),
      tile("Pengaduan masuk", num(t.complaints_opened), `${num(t.complaints_reopened)} dibuka kembali`),
      tile("Pengaduan selesai", num(t.complaints_resolved), `median ${hours(t.median_hours_to_resolve)}`),
      tile("Penilaian warga", t.mean_rating === null ? "–" : `${num(t.mean_rating)} / 5`, `${num(t.ratings)} penilaian`)),
    barChart("Permohonan dan surat terbit per bulan", stats.months, [
      { name: "Permohonan", cls: "s1", value: (m) => m.requests },
      { name: "Surat terbit", cls: "s2", value: (m) => m.letters_issued }]),
    barChart("Pengaduan per bulan", stats.months, [
      { name: "Masuk", cls: "s3", value: (m) => m.complaints_opened },
      { name: "Selesai", cls: "s2", value: (m) => m.complaints_resolved }]),
    ranking(stats, query),
    h("section", { class: "card" }, h("h2", {}, "Data terbuka"),
      h("p", {}, "Satu baris per desa/kelurahan dan bulan, untuk rentang yang ditampilkan. Kode dan nama wilayah: ",
        "idn-area-data (ODbL 1.0); data ini juga berlisensi ODbL 1.0."),
      h("p", { class: "actions" }, h("a", { class: "button secondary", href: `${base}/export.csv?${query}`, download: "" }, "Unduh CSV"),
        h("a", { class: "button secondary", href: `${base}/export.json?${query}` }, "Unduh JSON")),
      h("p", { class: "hint" }, stats.method.note)));
}

async function show() {
  const cfg = await loadConfig();
  const params = new URLSearchParams(location.search);
  const code = params.get("wilayah") || cfg.region;
  if (!code) return mount(out, notice("info", "Pilih wilayah: tambahkan ?wilayah=<kode wilayah> pada alamat halaman."));
  const query = new URLSearchParams();
  if (params.get("dari")) query.set("from", params.get("dari"));
  if (params.get("sampai")) query.set("to", params.get("sampai"));
  let stats;
  try {
    stats = await api("GET", `/v1/stats/regions/${encodeURIComponent(code)}?${query}`);
  } catch (err) {
    return mount(out, notice("error", err instanceof NetworkError
      ? "Tidak dapat terhubung ke server. Periksa koneksi internet Anda lalu coba lagi." : err.message));
  }
  form.dari.value = stats.from;
  form.sampai.value = stats.to;
  document.title = `Transparansi ${stats.region.name} — Balai`;
  render(stats, cfg, `from=${stats.from}&to=${stats.to}`);
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const params = new URLSearchParams(location.search);
  params.set("dari", form.dari.value);
  params.set("sampai", form.sampai.value);
  history.replaceState(null, "", `/transparansi/?${params}`);
  show();
});
show();
registerServiceWorker();
