// Staff console: the message bill (messages sent per channel and what they cost, per village and month) and
// one's own notification preferences (channels, each event or the daily digest only, quiet hours).
import { h, mount, notice } from "./lib.js";

const CHANNEL = { sms: "SMS", email: "Email", push: "Notifikasi aplikasi", inbox: "Kotak pesan portal" };
const usd = (x) => `US$${Number(x || 0).toFixed(2)}`;

/** #pesan: the bill of the staff member's region for a month, then their own preferences. */
export async function viewMessages(ctx) {
  const { call, show, seq, errorNotice, session } = ctx;
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const month = /^\d{4}-\d{2}$/.test(params.get("bulan") || "") ? params.get("bulan") : new Date().toISOString().slice(0, 7);
  let bill;
  let prefs;
  try {
    [bill, prefs] = await Promise.all([
      call("GET", `/v1/admin/message-bill/${encodeURIComponent(session().region)}?month=${month}`),
      call("GET", "/v1/me/notification-preferences")]);
  } catch (err) {
    return show(seq, "Pesan dan biaya", errorNotice(err));
  }
  const picker = h("input", { id: "bulan", type: "month", value: month,
    onchange: (e) => { location.hash = `pesan?bulan=${e.target.value}`; } });
  const channels = Object.keys(CHANNEL);
  const cells = (line) => channels.map((c) => h("td", {}, line.channels[c] ? `${line.channels[c].count} · ${usd(line.channels[c].cost_usd)}` : "-"));
  const table = h("table", { class: "card", id: "bill" },
    h("caption", {}, `Pesan terkirim ${bill.month}: jumlah · biaya (harga SMS ${usd(bill.prices_usd.sms)} per bagian)`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Wilayah"), ...channels.map((c) => h("th", { scope: "col" }, CHANNEL[c])),
      h("th", { scope: "col" }, "Total"))),
    h("tbody", {}, ...bill.lines.map((line) => h("tr", {}, h("th", { scope: "row" }, line.name), ...cells(line), h("td", {}, usd(line.total_usd))))),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Jumlah"), ...cells({ channels: bill.totals }), h("td", {}, usd(bill.total_usd)))));
  show(seq, "Pesan dan biaya", h("div", { class: "field" }, h("label", { for: "bulan" }, "Bulan"), picker), table,
    preferencesForm(call, prefs, errorNotice));
}

function preferencesForm(call, prefs, errorNotice) {
  const status = h("div", { "aria-live": "polite" });
  const box = (name, label, checked) => h("label", {}, h("input", { type: "checkbox", name: "channel", value: name, checked }), ` ${label}`);
  const mode = h("select", { id: "mode", name: "mode" },
    h("option", { value: "each", selected: prefs.mode !== "digest_only" }, "Setiap kejadian"),
    h("option", { value: "digest_only", selected: prefs.mode === "digest_only" }, "Ringkasan harian saja (eskalasi tetap langsung)"));
  const phone = h("input", { id: "pref-phone", name: "phone", inputmode: "tel", value: prefs.phone || "" });
  const email = h("input", { id: "pref-email", name: "email", type: "email", value: prefs.email || "" });
  const form = h("form", { class: "card", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const body = { channels: [...form.querySelectorAll("input[name=channel]:checked")].map((i) => i.value), mode: mode.value,
      phone: phone.value.trim() || null, email: email.value.trim() || null };
    if (prefs.quiet_hours) body.quiet_hours = prefs.quiet_hours;
    try {
      await call("PUT", "/v1/me/notification-preferences", { body });
      mount(status, notice("ok", "Pengaturan pemberitahuan tersimpan."));
    } catch (err) {
      mount(status, errorNotice(err));
    }
  } },
  h("h2", {}, "Pemberitahuan saya"),
  h("fieldset", {}, h("legend", {}, "Saluran"), box("sms", "SMS", prefs.channels.includes("sms")), " ",
    box("email", "Email", prefs.channels.includes("email"))),
  h("div", { class: "field" }, h("label", { for: "mode" }, "Kapan"), mode),
  h("div", { class: "field" }, h("label", { for: "pref-phone" }, "Nomor HP"), phone),
  h("div", { class: "field" }, h("label", { for: "pref-email" }, "Alamat email"), email),
  h("button", { type: "submit" }, "Simpan pemberitahuan"), status);
  return form;
}
