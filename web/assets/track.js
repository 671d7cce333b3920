// Tracking page: a request's status and dates by its tracking code, no login, no personal data.
import { NetworkError, STATUS, api, cleanCode, fmtDate, h, mount, notice, registerServiceWorker, statusBadge } from "./lib.js";

const out = document.getElementById("result");
const input = document.getElementById("kode");

async function track(code) {
  if (!code) return mount(out, notice("error", "Isi kode lacak terlebih dahulu."));
  mount(out, h("p", { class: "muted" }, "Mencari…"));
  let t;
  try {
    t = await api("GET", `/v1/track/${encodeURIComponent(code)}`);
  } catch (err) {
    return mount(out, notice("error", err instanceof NetworkError
      ? "Tidak dapat terhubung ke server. Periksa koneksi internet Anda lalu coba lagi." : err.message));
  }
  mount(out, h("section", { class: "card" },
    h("h2", {}, t.letter_name), h("dl", { class: "facts" },
      h("dt", {}, "Kode lacak"), h("dd", { class: "code" }, t.tracking_code),
      h("dt", {}, "Status"), h("dd", {}, statusBadge(t.status)),
      h("dt", {}, "Diajukan"), h("dd", {}, fmtDate(t.created_at)),
      h("dt", {}, "Target selesai"), h("dd", {}, fmtDate(t.due_at)),
      t.letter && t.letter.number ? [h("dt", {}, "Nomor surat"), h("dd", {}, t.letter.number)] : null),
    h("h3", {}, "Riwayat status"),
    h("ol", { class: "history" }, ...t.history.map((s) => h("li", {}, `${STATUS[s.to] || s.to} — ${fmtDate(s.at)}`)))));
}

document.getElementById("track").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = cleanCode(input.value);
  history.replaceState(null, "", `/lacak/?kode=${encodeURIComponent(code)}`);
  track(code);
});
const initial = cleanCode(new URLSearchParams(location.search).get("kode"));
if (initial) {
  input.value = initial;
  track(initial);
}
registerServiceWorker();
