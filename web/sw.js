// Service worker: keeps the app shell (pages, CSS, JS, icons) so the portal opens without a connection.
// API calls (another origin) are never cached: a kept form is sent by the page itself when online.
const CACHE = "balai-shell-v6";
const SHELL = [
  "/", "/index.html", "/lacak/", "/verifikasi/", "/staf/", "/transparansi/", "/assets/app.css", "/assets/lib.js",
  "/assets/citizen.js", "/assets/inbox.js", "/assets/staff-messages.js", "/assets/track.js", "/assets/verify.js",
  "/assets/staff.js", "/assets/district.js", "/assets/transparency.js", "/manifest.webmanifest",
  "/pengaduan/", "/assets/complaints.js", "/assets/citizen-complaints.js", "/assets/staff-complaints.js",
  "/assets/public-complaints.js",
  "/icons/icon.svg", "/icons/icon-192.png", "/icons/icon-512.png", "/config.json",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// Same-origin GETs: network first (fresh files after a deploy), the cached copy when offline.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  event.respondWith(
    fetch(event.request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((c) => c.put(event.request, copy));
      }
      return response;
    }).catch(() => caches.match(event.request, { ignoreSearch: true })
      .then((hit) => hit || caches.match(url.pathname.endsWith("/") ? `${url.pathname}index.html` : "/"))),
  );
});

// Web Push: a status message (title, body, tracking code, url) decrypted by the browser; a tap opens its url: the
// request it is about (/#permohonan/{id}), else the inbox.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (err) {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(self.registration.showNotification(data.title || "Balai", {
    body: data.body || "Ada kabar baru tentang permohonan Anda.", icon: "/icons/icon-192.png",
    tag: data.tracking_code || "balai", data: { url: data.url || "/#kotak-pesan" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/#kotak-pesan", self.location.origin);
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((wins) => {
    const open = wins.find((w) => new URL(w.url).origin === url.origin);
    return open ? open.navigate(url.href).then((w) => w && w.focus()) : self.clients.openWindow(url.href);
  }));
});
