// Staff console, district view (admin: the kabupaten; camat: the kecamatan): villages ranked by the share of
// letters issued within the SLA and by backlog, per-kecamatan totals, the oldest overdue requests.
import { STATUS, fmtDate, h } from "./lib.js";

const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toLocaleString("id-ID", { maximumFractionDigits: 1 })}%`);
const hrs = (x) => (x === null || x === undefined ? "–" : `${x.toLocaleString("id-ID")} jam`);

function table(caption, head, rows) {
  return h("div", { class: "scroll" }, h("table", { class: "ranking" }, h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, ...head.map((x) => h("th", {}, x)))), h("tbody", {}, ...rows)));
}

/** The view's nodes, from GET /v1/stats/district/{region}. */
export async function districtNodes(call, region) {
  const d = await call("GET", `/v1/stats/district/${encodeURIComponent(region)}`);
  const t = d.totals;
  const top = d.by_share_within_sla.filter((v) => v.letters_issued > 0).slice(0, 15);
  const backlog = d.by_backlog.filter((v) => v.open_requests + v.open_complaints > 0).slice(0, 15);
  return [
    h("p", { class: "muted" }, `${d.region.name}, ${d.from} s.d. ${d.to}. Angka publik ada di `,
      h("a", { href: `/transparansi/?wilayah=${d.region.code}` }, "halaman transparansi"), "."),
    h("div", { class: "tiles" },
      h("div", { class: "tile" }, h("span", { class: "label" }, "Tepat waktu"), h("strong", {}, pct(t.share_within_sla))),
      h("div", { class: "tile" }, h("span", { class: "label" }, "Surat terbit"), h("strong", {}, String(t.letters_issued))),
      h("div", { class: "tile" }, h("span", { class: "label" }, "Permohonan terbuka"), h("strong", {}, String(t.open_requests))),
      h("div", { class: "tile" }, h("span", { class: "label" }, "Lewat tenggat"), h("strong", {}, String(d.overdue_total)))),
    h("h2", {}, "Permohonan lewat tenggat paling lama"),
    d.overdue.length ? table("Lewat tenggat", ["Tenggat", "Desa/kelurahan", "Surat", "Status", "Kode lacak"],
      d.overdue.map((o) => h("tr", {}, h("td", {}, fmtDate(o.due_at)), h("td", {}, o.village_name), h("td", {}, o.letter_name),
        h("td", {}, STATUS[o.status] || o.status), h("td", {}, h("a", { href: `#permohonan/${o.id}` }, o.tracking_code)))))
      : h("p", {}, "Tidak ada permohonan yang lewat tenggat."),
    h("h2", {}, "Peringkat tepat waktu"),
    top.length ? table("Peringkat tepat waktu", ["#", "Desa/kelurahan", "Kecamatan", "Surat terbit", "Tepat waktu", "Median terbit"],
      top.map((v, i) => h("tr", {}, h("td", {}, String(i + 1)), h("td", {}, v.name), h("td", {}, v.kecamatan_name),
        h("td", {}, String(v.letters_issued)), h("td", {}, pct(v.share_within_sla)), h("td", {}, hrs(v.median_hours_to_issue)))))
      : h("p", {}, "Belum ada surat terbit dalam rentang ini."),
    h("h2", {}, "Tunggakan terbanyak"),
    backlog.length ? table("Tunggakan", ["Desa/kelurahan", "Kecamatan", "Permohonan terbuka", "Pengaduan terbuka"],
      backlog.map((v) => h("tr", {}, h("td", {}, v.name), h("td", {}, v.kecamatan_name), h("td", {}, String(v.open_requests)),
        h("td", {}, String(v.open_complaints))))) : h("p", {}, "Tidak ada tunggakan."),
    h("h2", {}, "Per kecamatan"),
    table("Per kecamatan", ["Kecamatan", "Permohonan", "Surat terbit", "Tepat waktu", "Permohonan terbuka", "Pengaduan terbuka"],
      d.kecamatan.map((k) => h("tr", {}, h("td", {}, k.name), h("td", {}, String(k.requests)), h("td", {}, String(k.letters_issued)),
        h("td", {}, pct(k.share_within_sla)), h("td", {}, String(k.open_requests)), h("td", {}, String(k.open_complaints))))),
  ];
}
