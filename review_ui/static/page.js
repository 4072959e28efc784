// One page: the aligned image (zoom with the wheel or +/−), its answers and its audit log.
"use strict";
const $ = (id) => document.getElementById(id);
let zoom = 1;

function cell(text) { const td = document.createElement("td"); td.textContent = text == null ? "" : String(text); return td; }
function show(v) { return v === null || v === undefined ? "—" : (typeof v === "object" ? JSON.stringify(v) : String(v)); }

function setZoom(z) {
  zoom = Math.min(4, Math.max(0.25, z));
  $("page-image").style.transform = `scale(${zoom})`;
  $("zoom-level").textContent = `${Math.round(zoom * 100)}%`;
}

async function get(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  if (r.status === 401) { location.href = "./"; throw new Error("401"); }
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || r.statusText);
  return r.json();
}

async function main() {
  const id = new URLSearchParams(location.search).get("id");
  try {
    const p = await get(`/api/pages/${encodeURIComponent(id)}`);
    $("page-title").textContent = `Trang #${p.id} · ${p.template || "?"} · số phiếu ${p.sheet || "?"} · trang ${p.page || "?"}`;
    $("page-meta").textContent = `${p.source} (trang ${p.index + 1} của tệp) · ${p.status}` + (p.error ? ` · ${p.error}` : "") +
      (p.alignment_quality != null ? ` · căn chỉnh ${Math.round(p.alignment_quality * 100)}%` : "");
    $("page-image").addEventListener("load", () => setZoom($("page-image-wrap").clientWidth / $("page-image").naturalWidth));
    $("page-image").src = p.aligned_image_url || p.image_url || "";
    const tb = $("fields").tBodies[0];
    for (const [fid, f] of Object.entries(p.fields)) {
      const tr = document.createElement("tr");
      tr.append(cell(fid), cell(show(f.value)), cell(f.status + (f.reason ? ` (${f.reason})` : "")), cell(f.source));
      tb.append(tr);
    }
    const audit = await get(`/api/pages/${encodeURIComponent(id)}/audit`);
    const ab = $("audit").tBodies[0];
    for (const a of audit) {
      const tr = document.createElement("tr");
      tr.append(cell(new Date(a.at).toLocaleString("vi-VN")), cell(a.user), cell(a.action), cell(a.field_id),
        cell(`${show(a.old && "value" in a.old ? a.old.value : a.old)} → ${show(a.new && "value" in a.new ? a.new.value : a.new)}`));
      ab.append(tr);
    }
  } catch (e) { $("page-error").textContent = e.message; }
  $("zoom-in").addEventListener("click", () => setZoom(zoom * 1.25));
  $("zoom-out").addEventListener("click", () => setZoom(zoom / 1.25));
  $("page-image-wrap").addEventListener("wheel", (ev) => { if (ev.ctrlKey || ev.metaKey || true) { ev.preventDefault(); setZoom(zoom * (ev.deltaY < 0 ? 1.1 : 1 / 1.1)); } }, { passive: false });
  document.addEventListener("keydown", (ev) => { if (ev.key === "+") setZoom(zoom * 1.25); if (ev.key === "-") setZoom(zoom / 1.25); });
}
main();
