// Citizen portal, complaints: file one (category, text, optional photos and location from the browser, public or
// private; sent once with its Idempotency-Key), follow one's own, close, reopen within the window, rate.
import { fmtDate, h, loadConfig, mount, newKey, notice, sendUpload, showFieldErrors, shrinkPhoto } from "./lib.js";
import { C_KIND, complaintBadge, complaintCard, kabupatenOf, slaBadge, villagePicker } from "./complaints.js";

const MAX_PHOTOS = 3;

function field(id, label, input, hint) {
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("p", { class: "hint" }, hint) : null);
}

/** Route "pengaduan" (own list), "pengaduan/baru" (file), "pengaduan/<id>" (one). ctx: {call, show, seq, go, errorNotice}. */
export function renderComplaints(arg, ctx) {
  if (arg === "baru") return viewNew(ctx);
  if (arg) return viewOne(arg, ctx);
  return viewMine(ctx);
}

async function viewMine(ctx) {
  const seq = ctx.seq();
  let page;
  try {
    page = await ctx.call("GET", "/v1/me/complaints?limit=50");
  } catch (err) {
    return ctx.show(seq, "Pengaduan saya", ctx.errorNotice(err));
  }
  const add = h("p", {}, h("a", { class: "button", href: "#pengaduan/baru" }, "Buat pengaduan atau aspirasi"));
  if (!page.items.length) {
    return ctx.show(seq, "Pengaduan saya", add, h("p", {}, "Anda belum pernah mengirim pengaduan."),
      h("p", {}, h("a", { href: "/pengaduan/" }, "Lihat pengaduan publik di desa Anda")));
  }
  ctx.show(seq, "Pengaduan saya", add, h("ul", { class: "list" }, ...page.items.map((c) => h("li", {},
    h("a", { href: `#pengaduan/${c.id}` }, c.title),
    h("div", { class: "row muted" }, complaintBadge(c.status), " ", slaBadge(c),
      ` ${C_KIND[c.kind] || c.kind} · ${c.village_name || c.village} · ${fmtDate(c.created_at)}`)))));
}

async function uploadPhoto(ctx, village, chosen) {
  const file = await shrinkPhoto(chosen);
  const up = await ctx.call("POST", `/v1/villages/${village}/complaint-uploads`,
    { body: { filename: file.name, content_type: file.type, size: file.size } });
  await sendUpload(up, file, "Foto ditolak penyimpanan. Gunakan JPG, PNG atau WebP, paling besar 5 MB.");
  return up.upload_id;
}

async function viewNew(ctx) {
  const seq = ctx.seq();
  const cfg = await loadConfig();
  const kabupaten = cfg.region || "73.07";
  const status = h("div", { "aria-live": "polite" });
  const state = { village: "", photos: [], lat: null, lon: null, key: newKey() };
  const category = h("select", { name: "category" }, h("option", { value: "" }, "— pilih kategori —"));
  try {
    const config = await ctx.call("GET", `/v1/kabupaten/${kabupaten}/complaint-categories`);
    for (const c of config.categories) category.append(h("option", { value: c.code }, c.name));
  } catch (err) {
    return ctx.show(seq, "Buat pengaduan", ctx.errorNotice(err));
  }
  const picker = await villagePicker(kabupaten, "", (code) => { state.village = code; }, status);
  const kind = h("select", { name: "kind" }, h("option", { value: "complaint" }, "Pengaduan (ada masalah)"),
    h("option", { value: "aspiration" }, "Aspirasi (usul atau harapan)"));
  const title = h("input", { name: "title", maxlength: "150", autocomplete: "off" });
  const text = h("textarea", { name: "text", maxlength: "4000", rows: "6" });
  const isPublic = h("input", { name: "public", type: "checkbox", checked: true });
  const where = h("p", { class: "muted", "aria-live": "polite" }, "Lokasi tidak dikirim.");
  const locate = h("button", { type: "button", class: "secondary", onclick: () => {
    if (!navigator.geolocation) return mount(where, "Perangkat ini tidak dapat memberi lokasi.");
    mount(where, "Mencari lokasi…");
    navigator.geolocation.getCurrentPosition((pos) => {
      state.lat = Math.round(pos.coords.latitude * 1e6) / 1e6;
      state.lon = Math.round(pos.coords.longitude * 1e6) / 1e6;
      mount(where, `Lokasi: ${state.lat}, ${state.lon} `, h("button", { type: "button", class: "link", onclick: () => {
        state.lat = null; state.lon = null; mount(where, "Lokasi tidak dikirim.");
      } }, "hapus"));
    }, () => mount(where, "Lokasi tidak dapat diambil (izin ditolak atau sinyal GPS lemah). Pengaduan tetap bisa dikirim."),
    { enableHighAccuracy: true, timeout: 15000 });
  } }, "Gunakan lokasi saya");
  const photos = h("input", { name: "photos", type: "file", accept: "image/jpeg,image/png,image/webp", multiple: true });
  const photoState = h("p", { class: "muted", "aria-live": "polite" });
  photos.addEventListener("change", async () => {
    const files = Array.from(photos.files || []);
    if (!state.village) { photos.value = ""; return mount(photoState, notice("error", "Pilih desa/kelurahan dulu.")); }
    if (state.photos.length + files.length > MAX_PHOTOS) { photos.value = ""; return mount(photoState, notice("error", `Paling banyak ${MAX_PHOTOS} foto.`)); }
    for (const file of files) {
      mount(photoState, `Mengunggah ${file.name}…`);
      try {
        state.photos.push(await uploadPhoto(ctx, state.village, file));
      } catch (err) {
        photos.value = "";
        return mount(photoState, ctx.errorNotice(err));
      }
    }
    photos.value = "";
    mount(photoState, `${state.photos.length} foto terunggah.`);
  });
  const send = h("button", { type: "submit" }, "Kirim");
  const form = h("form", { class: "card", novalidate: true },
    picker,
    field("c-category", "Kategori", category),
    field("c-kind", "Jenis", kind),
    field("c-title", "Judul", title, "Singkat, 5–150 karakter, mis. \"Jalan poros berlubang di depan SD\"."),
    field("c-text", "Uraian", text, "Apa, di mana, sejak kapan. 10–4.000 karakter."),
    h("div", { class: "field" }, h("span", { class: "label" }, "Lokasi (tidak wajib)"), locate, where),
    field("c-photos", `Foto (tidak wajib, paling banyak ${MAX_PHOTOS}, JPG/PNG/WebP)`, photos), photoState,
    h("div", { class: "field check" }, isPublic, h("label", { for: "c-public" }, "Tampilkan untuk umum (tanpa nama dan NIK Anda)")),
    h("div", { class: "actions" }, send));
  isPublic.id = "c-public";
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state.village) return mount(status, notice("error", "Pilih kecamatan dan desa/kelurahan."));
    send.disabled = true;
    const body = { kind: kind.value, category: category.value, title: title.value.trim(), text: text.value,
      public: isPublic.checked, photos: state.photos };
    if (state.lat !== null) Object.assign(body, { lat: state.lat, lon: state.lon });
    try {
      const made = await ctx.call("POST", `/v1/villages/${state.village}/complaints`,
        { body, headers: { "Idempotency-Key": state.key } });
      ctx.go(`pengaduan/${made.id}`);
    } catch (err) {
      const rest = showFieldErrors(form, err);
      mount(status, ctx.errorNotice(err), ...rest.map((m) => notice("error", m)));
    } finally {
      send.disabled = false;
    }
  });
  ctx.show(seq, "Buat pengaduan", h("p", {}, "Sampaikan masalah atau usulan untuk desa/kelurahan. Anda akan diberi tahu setiap perubahan status."),
    form, status);
}

function actionForm(label, fields, onSubmit, status) {
  const button = h("button", { type: "submit" }, label);
  const form = h("form", { class: "card", novalidate: true }, ...fields, h("div", { class: "actions" }, button));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      await onSubmit(form);
    } catch (err) {
      mount(status, notice("error", err.message));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

async function viewOne(id, ctx) {
  const seq = ctx.seq();
  let c;
  try {
    c = await ctx.call("GET", `/v1/complaints/${encodeURIComponent(id)}`);
  } catch (err) {
    return ctx.show(seq, "Pengaduan", ctx.errorNotice(err));
  }
  const status = h("div", { "aria-live": "polite" });
  const act = async (body) => {
    await ctx.call("POST", `/v1/complaints/${c.id}/transitions`, { body: { version: c.version, ...body } });
    ctx.go(`pengaduan/${c.id}`);
  };
  const forms = [];
  if (c.status === "resolved") {
    forms.push(actionForm("Tutup pengaduan (sudah beres)", [], () => act({ action: "close" }), status));
    const why = h("textarea", { name: "note", maxlength: "1000", rows: "3" });
    forms.push(actionForm("Buka kembali", [field("c-reopen", "Mengapa belum beres? (buka kembali dalam 5 hari setelah selesai)", why)],
      () => act({ action: "reopen", note: why.value }), status));
  }
  if (["resolved", "closed"].includes(c.status) && !c.rating) {
    const stars = h("select", { name: "rating" }, ...[5, 4, 3, 2, 1].map((n) => h("option", { value: String(n) }, `${n} — ${"★".repeat(n)}`)));
    const comment = h("textarea", { name: "note", maxlength: "1000", rows: "2" });
    forms.push(actionForm("Kirim penilaian", [field("c-rating", "Penilaian penanganan", stars), field("c-comment", "Komentar (tidak wajib)", comment)],
      () => act({ action: "rate", rating: Number(stars.value), note: comment.value || undefined }), status));
  }
  ctx.show(seq, "Pengaduan", h("p", {}, h("a", { href: "#pengaduan" }, "← Pengaduan saya")), complaintCard(c, ctx.call), status, ...forms);
}
