// One page: the aligned image (wheel / + − to zoom around the pointer, drag to move), its answers
// and its audit log. All values from the API go in with textContent (scan and OCR text is untrusted).
"use strict";
const $ = (id) => document.getElementById(id);
let zoom = 1;
let fitted = true;
let pageData = null;
let auditData = null;

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}

function show(v) {
  if (v === null || v === undefined || v === "") return "—";
  if (Array.isArray(v)) return v.join(", ");
  if (typeof v === "object") {
    return Object.entries(v).filter(([, x]) => x !== null && x !== undefined).map(([k, x]) => `${k}: ${show(x)}`).join(", ") || "—";
  }
  return String(v);
}

// an audit entry's old/new is {value, status, source} for answers, {status, template, page, sheet, …} for pages
function change(v) {
  if (v && typeof v === "object" && !Array.isArray(v) && "value" in v) return show(v.value);
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const { status, ...rest } = v;
    return [status ? word("status_names", status) : null, show(rest)].filter((x) => x && x !== "—").join(" · ") || "—";
  }
  return show(v);
}

// ------------------------------------------------------------ zoom and pan

function applyZoom() {
  const img = $("page-image");
  if (!img.naturalWidth) return;
  img.style.transform = `scale(${zoom})`;
  $("page-stage").style.width = `${img.naturalWidth * zoom}px`;
  $("page-stage").style.height = `${img.naturalHeight * zoom}px`;
  $("zoom-level").textContent = `${Math.round(zoom * 100)}%`;
}

function setZoom(z, cx, cy) {
  const wrap = $("page-image-wrap");
  const old = zoom;
  zoom = Math.min(4, Math.max(0.1, z));
  fitted = false;
  // keep the point under the pointer (or the centre) where it is
  const px = cx === undefined ? wrap.clientWidth / 2 : cx;
  const py = cy === undefined ? wrap.clientHeight / 2 : cy;
  const ix = (wrap.scrollLeft + px) / old;
  const iy = (wrap.scrollTop + py) / old;
  applyZoom();
  wrap.scrollLeft = ix * zoom - px;
  wrap.scrollTop = iy * zoom - py;
}

function fit() {
  const img = $("page-image");
  if (!img.naturalWidth) return;
  zoom = Math.max(0.1, ($("page-image-wrap").clientWidth - 2) / img.naturalWidth);
  fitted = true;
  applyZoom();
}

function setupZoom() {
  const wrap = $("page-image-wrap");
  $("page-image").addEventListener("load", fit);
  window.addEventListener("resize", () => { if (fitted) fit(); });
  $("zoom-in").addEventListener("click", () => setZoom(zoom * 1.25));
  $("zoom-out").addEventListener("click", () => setZoom(zoom / 1.25));
  $("zoom-fit").addEventListener("click", fit);
  wrap.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = wrap.getBoundingClientRect();
    setZoom(zoom * (ev.deltaY < 0 ? 1.15 : 1 / 1.15), ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });
  let drag = null;
  wrap.addEventListener("pointerdown", (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, sl: wrap.scrollLeft, st: wrap.scrollTop };
    wrap.classList.add("dragging");
    wrap.setPointerCapture(ev.pointerId);
  });
  wrap.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    wrap.scrollLeft = drag.sl - (ev.clientX - drag.x);
    wrap.scrollTop = drag.st - (ev.clientY - drag.y);
  });
  const end = () => { drag = null; wrap.classList.remove("dragging"); };
  wrap.addEventListener("pointerup", end);
  wrap.addEventListener("pointercancel", end);
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "+" || ev.key === "=") setZoom(zoom * 1.25);
    else if (ev.key === "-") setZoom(zoom / 1.25);
    else if (ev.key === "0") fit();
  });
}

// ------------------------------------------------------------ data

async function get(path) {
  let r;
  try { r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } }); }
  catch (e) { throw new Error(t("network")); }
  if (r.status === 401) { location.href = "./"; throw new Error("401"); }
  if (!r.ok) {
    const d = await r.json().catch(() => ({}));
    throw new Error(typeof d.detail === "string" ? d.detail : `${r.status} ${r.statusText}`);
  }
  return r.json();
}

function renderPage() {
  const p = pageData;
  if (!p) return;
  const title = [`${t("page_title")} #${p.id}`];
  if (p.template) title.push(p.template);
  if (p.sheet) title.push(`${t("sheet")} ${p.sheet}`);
  if (p.page) title.push(`${t("pageno")} ${p.page}`);
  $("page-title").textContent = title.join(" · ");
  document.title = title.join(" · ");
  const meta = [`${p.source || "?"} (${t("of_file").replace("{n}", String((p.index || 0) + 1))})`, word("status_names", p.status)];
  if (p.agency) meta.push(p.agency);
  if (p.alignment_quality != null) meta.push(`${t("alignment")} ${Math.round(p.alignment_quality * 100)}%`);
  if (p.error) meta.push(reasonText(p.error));
  for (const w of p.warnings || []) meta.push(`⚠ ${reasonText(w)}`);
  $("page-meta").textContent = meta.join(" · ");
  const english = [p.error, ...(p.warnings || [])].filter((x) => x).join(" · ");
  if (english && $("page-meta").textContent.indexOf(english) < 0) $("page-meta").title = english; else $("page-meta").removeAttribute("title");
  const rows = Object.entries(p.fields || {}).map(([fid, f]) => {
    const tr = document.createElement("tr");
    if (f.source === "reviewer") tr.className = "reviewed";
    else if (f.status === "uncertain" || f.status === "multiple") tr.className = "uncertain";
    let value = show(f.value);
    if (f.text_suggestion && (f.value === null || f.value === undefined)) value = `${t("ocr")}: ${f.text_suggestion}`;
    const status = cell(word("status_names", f.status) + (f.reason ? ` (${reasonText(f.reason)})` : ""));
    if (f.reason && reasonText(f.reason) !== f.reason) status.title = f.reason;
    const q = cell(f.question || fid);
    if (f.question) q.title = fid;
    tr.append(q, cell(value), status,
      cell(word("source_names", f.source)), cell(typeof f.confidence === "number" ? `${Math.round(f.confidence * 100)}%` : "", "num"));
    return tr;
  });
  $("fields").tBodies[0].replaceChildren(...rows);
}

function renderAudit() {
  if (!auditData) return;
  const locale = LANG === "vi" ? "vi-VN" : "en-GB";
  const rows = auditData.map((a) => {
    const tr = document.createElement("tr");
    tr.append(cell(new Date(a.at).toLocaleString(locale)), cell(a.user), cell(word("actions", a.action)), cell(a.field_id || "—"),
      cell(`${change(a.old)} → ${change(a.new)}`));
    return tr;
  });
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell(t("no_audit"), "muted");
    td.colSpan = 5;
    tr.append(td);
    rows.push(tr);
  }
  $("audit").tBodies[0].replaceChildren(...rows);
}

async function main() {
  applyLang();
  try { const q = localStorage.getItem("omr-last-queue"); if (q && q.startsWith("./?")) $("back").href = q; } catch (e) { /* ignore */ }
  $("lang").addEventListener("click", () => { toggleLang(); renderPage(); renderAudit(); });
  setupZoom();
  const id = new URLSearchParams(location.search).get("id");
  try {
    pageData = await get(`/api/pages/${encodeURIComponent(id)}`);
    renderPage();
    const src = pageData.aligned_image_url || pageData.image_url;
    if (src) $("page-image").src = src; else $("page-error").textContent = t("page_no_image");
    auditData = await get(`/api/pages/${encodeURIComponent(id)}/audit`);
    renderAudit();
  } catch (e) { $("page-error").textContent = e.message; }
  document.body.dataset.loaded = "1";
}
main();
