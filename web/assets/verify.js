// Verification page opened from a letter's QR code: valid / revoked / forged / unknown, non-personal facts.
import { NetworkError, api, fmtDate, h, mount, notice, registerServiceWorker } from "./lib.js";

const VERDICT = {
  valid: ["Surat ASLI dan berlaku", "Tanda tangan elektronik cocok dengan surat yang diterbitkan."],
  revoked: ["Surat DICABUT", "Surat ini pernah diterbitkan tetapi sudah dicabut dan tidak berlaku lagi."],
  forged: ["Surat TIDAK ASLI", "Kode QR ini tidak ditandatangani oleh Balai. Jangan terima surat ini."],
  unknown: ["Surat TIDAK DIKENAL", "Tanda tangan dikenal, tetapi surat ini tidak ada dalam arsip."],
};

async function main() {
  const out = document.getElementById("result");
  const token = (new URLSearchParams(location.search).get("token") || "").trim();
  if (!token) {
    mount(out, notice("error", "Tautan verifikasi tidak lengkap: kode surat tidak ada. Pindai ulang kode QR pada surat."));
    return;
  }
  let v;
  try {
    v = await api("GET", `/v1/letters/verify/${encodeURIComponent(token)}`);
  } catch (err) {
    mount(out, notice("error", err instanceof NetworkError
      ? "Tidak dapat terhubung ke server. Verifikasi memerlukan koneksi internet; coba lagi nanti."
      : err.message));
    return;
  }
  const [title, text] = VERDICT[v.status] || [v.status, v.message];
  document.title = `${title} — Verifikasi surat — Balai`;
  const facts = [
    ["Nomor surat", v.number], ["Jenis surat", v.letter_name], ["Desa/kelurahan", v.village_name],
    ["Tanggal terbit", v.issued_date && fmtDate(v.issued_date, false)], ["Pemohon", v.applicant],
    ["Ditandatangani", v.signer_name && `${v.signer_name}${v.signer_position && v.signer_position !== v.signer_name
      ? `, ${v.signer_position}` : ""}`],
    ["Dicabut pada", v.revoked_at && fmtDate(v.revoked_at)], ["Alasan pencabutan", v.revoked_reason],
    ["Diperiksa", v.verification_count && `${v.verification_count} kali`],
  ].filter(([, value]) => value);
  mount(out, h("section", { class: "card", "data-status": v.status },
    h("h2", {}, h("span", { class: `badge ${v.status}` }, title)), h("p", {}, text),
    v.message && v.message !== text ? h("p", { class: "muted" }, v.message) : null,
    facts.length ? h("dl", { class: "facts" }, ...facts.map(([k, value]) => [h("dt", {}, k), h("dd", {}, value)])) : null));
}

main();
registerServiceWorker();
