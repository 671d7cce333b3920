// Citizen portal: the inbox (status messages, newest first, unread marked) and where messages reach the
// citizen: e-mail, notifications on this device (Web Push), and the devices that stay logged in.
import { api, fmtDate, h, mount, notice } from "./lib.js";

const PUSH_KEY = "balai.push-endpoint";

/** #kotak-pesan: one page of messages; opening one marks it read. */
export async function viewInbox(ctx, cursor = null) {
  const { call, show, seq, errorNotice } = ctx;
  let data;
  try {
    data = await call("GET", `/v1/me/inbox?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
  } catch (err) {
    return show(seq, "Kotak pesan", errorNotice(err));
  }
  const count = h("p", { id: "unread", "aria-live": "polite" }, unreadText(data.unread));
  const item = (m) => {
    const li = h("li", { class: m.read ? "msg" : "msg unread", "data-id": m.id },
      h("div", { class: "row" }, h("strong", {}, m.title), m.read ? null : h("span", { class: "badge st-submitted" }, "Baru")),
      h("p", {}, m.text),
      h("div", { class: "muted" }, fmtDate(m.created_at),
        m.request_id ? h("span", {}, " · ", h("a", { href: `#permohonan/${m.request_id}` }, "Lihat permohonan")) : null),
      m.read ? null : h("button", { type: "button", class: "secondary", onclick: async (e) => {
        e.target.disabled = true;
        try {
          const read = await call("POST", `/v1/me/inbox/${encodeURIComponent(m.id)}/read`, { body: {} });
          li.classList.remove("unread");
          li.querySelector(".badge")?.remove();
          e.target.remove();
          mount(count, unreadText(read.unread));
        } catch (err) {
          e.target.disabled = false;
          li.append(errorNotice(err));
        }
      } }, "Tandai sudah dibaca"));
    return li;
  };
  show(seq, "Kotak pesan", count,
    h("p", {}, h("a", { href: "#pemberitahuan" }, "Atur pemberitahuan: email, notifikasi di perangkat ini, perangkat yang masuk")),
    data.items.length === 0 ? h("p", {}, "Belum ada pesan. Kabar tentang permohonan Anda akan muncul di sini.")
      : h("ul", { class: "list card", id: "messages" }, ...data.items.map(item)),
    data.next ? h("p", {}, h("a", { href: "#kotak-pesan", onclick: (e) => { e.preventDefault(); viewInbox({ ...ctx, seq }, data.next); } },
      "Pesan yang lebih lama")) : null);
}

function unreadText(n) {
  return n ? `${n} pesan belum dibaca.` : "Semua pesan sudah dibaca.";
}

function base64UrlToBytes(text) {
  const b64 = (text + "=".repeat((4 - (text.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** Subscribe this device's portal to Web Push with the API's VAPID key, and tell the API. */
async function subscribePush(call) {
  const registration = await navigator.serviceWorker.ready;
  const { public_key: key } = await api("GET", "/v1/push/vapid-public-key");
  const sub = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key) });
  await call("POST", "/v1/me/push-subscriptions", { body: sub.toJSON() });
  localStorage.setItem(PUSH_KEY, sub.endpoint);
}

async function unsubscribePush(call) {
  const registration = await navigator.serviceWorker.ready;
  const sub = await registration.pushManager.getSubscription();
  const endpoint = (sub && sub.endpoint) || localStorage.getItem(PUSH_KEY);
  if (sub) await sub.unsubscribe();
  if (endpoint) await call("DELETE", "/v1/me/push-subscriptions", { body: { endpoint } }).catch(() => {});
  localStorage.removeItem(PUSH_KEY);
}

/** After a submission: offer notifications on this device (a push instead of an SMS when the letter is
 * issued), unless the browser cannot or this device already receives them. */
export function pushOffer(call) {
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!supported || localStorage.getItem(PUSH_KEY) || Notification.permission === "denied") return null;
  const status = h("span", { "aria-live": "polite" });
  return h("p", { class: "notice info" }, "Ingin tahu saat surat terbit tanpa menunggu SMS? ",
    h("button", { type: "button", class: "secondary", onclick: async (e) => {
      e.target.disabled = true;
      try {
        if ((await Notification.requestPermission()) !== "granted") throw new Error("Izin notifikasi tidak diberikan.");
        await subscribePush(call);
        mount(status, " Notifikasi aktif.");
        e.target.remove();
      } catch (err) {
        e.target.disabled = false;
        mount(status, ` ${err.message}`);
      }
    } }, "Aktifkan notifikasi"), status);
}

/** #pemberitahuan: e-mail, notifications on this device, and the devices list. */
export async function viewMessageSettings(ctx) {
  const { call, show, seq, errorNotice, render } = ctx;
  let contact;
  let devices;
  try {
    [contact, devices] = await Promise.all([call("GET", "/v1/me/contact"), call("GET", "/v1/me/devices")]);
  } catch (err) {
    return show(seq, "Pemberitahuan", errorNotice(err));
  }
  const status = h("div", { "aria-live": "polite" });
  const email = h("input", { id: "email", name: "email", type: "email", autocomplete: "email", value: contact.email || "" });
  // A new address gets a six-digit code by e-mail; once it is typed, later login codes can go there instead of SMS.
  const emailCode = h("input", { id: "email-code", name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6" });
  const confirmBox = h("div", { class: "field", hidden: !contact.email || contact.email_verified },
    h("label", { for: "email-code" }, "Kode konfirmasi (6 angka dari email)"), emailCode,
    h("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        await call("POST", "/v1/me/contact/confirm", { body: { code: emailCode.value.trim() } });
        confirmBox.hidden = true;
        mount(status, notice("ok", "Email terkonfirmasi. Kode masuk berikutnya dapat dikirim ke email ini, bukan lewat SMS."));
      } catch (err) {
        mount(status, errorNotice(err));
      }
    } }, "Konfirmasi email"));
  const emailForm = h("form", { class: "card", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    try {
      const saved = await call("PUT", "/v1/me/contact", { body: { email: email.value.trim() || null } });
      confirmBox.hidden = !saved.confirmation_sent;
      mount(status, notice("ok", !saved.email ? "Email dihapus."
        : saved.confirmation_sent ? `Kabar permohonan dikirim ke ${saved.email}. Kami mengirim kode konfirmasi ke email itu.`
          : `Kabar permohonan dikirim ke ${saved.email}.`));
      if (saved.confirmation_sent) emailCode.focus();
    } catch (err) {
      mount(status, errorNotice(err));
    }
  } },
  h("h2", {}, "Email"),
  h("p", { class: "hint" }, "Dengan email atau notifikasi perangkat, kabar permohonan tidak perlu dikirim lewat SMS."),
  h("div", { class: "field" }, h("label", { for: "email" }, "Alamat email"), email),
  contact.email && contact.email_verified ? h("p", { class: "muted" }, "Email terkonfirmasi.") : null,
  h("button", { type: "submit" }, "Simpan email"), confirmBox);
  const pushSupported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  const subscribed = Boolean(localStorage.getItem(PUSH_KEY));
  const pushCard = h("section", { class: "card" }, h("h2", {}, "Notifikasi di perangkat ini"),
    pushSupported
      ? h("button", { type: "button", id: "push-toggle", onclick: async (e) => {
        e.target.disabled = true;
        try {
          if (subscribed) {
            await unsubscribePush(call);
            mount(status, notice("ok", "Notifikasi di perangkat ini dimatikan."));
          } else {
            if ((await Notification.requestPermission()) !== "granted") throw new Error("Izin notifikasi tidak diberikan.");
            await subscribePush(call);
            mount(status, notice("ok", "Notifikasi di perangkat ini aktif."));
          }
          render();
        } catch (err) {
          e.target.disabled = false;
          mount(status, errorNotice(err));
        }
      } }, subscribed ? "Matikan notifikasi" : "Aktifkan notifikasi")
      : h("p", {}, "Peramban ini tidak mendukung notifikasi. Kabar tetap masuk ke kotak pesan."),
    h("p", { class: "muted" }, `${contact.push_subscriptions} perangkat menerima notifikasi.`));
  const deviceList = h("section", { class: "card" }, h("h2", {}, "Perangkat yang tetap masuk"),
    h("ul", { class: "list", id: "devices" }, ...devices.items.map((d) => h("li", {},
      h("div", { class: "row" }, h("strong", {}, d.device), h("span", { class: "muted" }, d.active ? "aktif" : "berakhir")),
      h("div", { class: "muted" }, `Masuk ${fmtDate(d.created_at)} · terakhir dipakai ${fmtDate(d.last_used_at)}`),
      d.active ? h("button", { type: "button", class: "secondary", onclick: async (e) => {
        e.target.disabled = true;
        try {
          await call("DELETE", `/v1/me/devices/${encodeURIComponent(d.id)}`);
          render();
        } catch (err) {
          mount(status, errorNotice(err));
        }
      } }, "Keluarkan perangkat ini") : null))));
  show(seq, "Pemberitahuan", status, emailForm, pushCard, deviceList);
}
