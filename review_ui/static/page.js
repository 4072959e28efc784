// One page: the aligned image (wheel / + − to zoom around the pointer, drag to move), its answers
// and its audit log. All values from the API go in with textContent (scan and OCR text is untrusted).
"use strict";
const $ = (id) => document.getElementById(id);
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

let zoomer = null;

function setupZoom() {
  zoomer = makeZoomable($("page-image-wrap"), $("page-stage"), $("page-image"),
    (z) => { $("zoom-level").textContent = `${Math.round(z * 100)}%`; });
  $("zoom-in").addEventListener("click", zoomer.zoomIn);
  $("zoom-out").addEventListener("click", zoomer.zoomOut);
  $("zoom-fit").addEventListener("click", zoomer.fit);
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "+" || ev.key === "=") zoomer.zoomIn();
    else if (ev.key === "-") zoomer.zoomOut();
    else if (ev.key === "0") zoomer.fit();
  });
}

// ------------------------------------------------------------ data

// a 401 goes back to the review page, which shows its login form
API.onUnauthorized = () => { location.href = "./"; };

// The value as the reader knows it: the option label(s) the API gives, the code in the tooltip.
function valueCell(f) {
  if (f.text_suggestion && (f.value === null || f.value === undefined)) return cell(`${t("ocr")}: ${f.text_suggestion}`);
  const label = Array.isArray(f.label) ? f.label.join("; ") : f.label;
  if (label !== null && label !== undefined && label !== "" && f.value !== null && f.value !== undefined) {
    const td = cell(label);
    td.title = `${t("code")}: ${show(f.value)}`;
    return td;
  }
  if (f.status === "multiple" && (f.value === null || f.value === undefined)) return cell(t("invalid_value"));
  return cell(show(f.value));
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
    const status = cell(word("status_names", f.status) + (f.reason ? ` (${reasonText(f.reason)})` : ""));
    if (f.reason && reasonText(f.reason) !== f.reason) status.title = f.reason;
    const q = cell(f.question || fid);
    if (f.question) q.title = fid;
    tr.append(q, valueCell(f), status,
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
    pageData = await api("GET", `/api/pages/${encodeURIComponent(id)}`);
    renderPage();
    const src = pageData.aligned_image_url || pageData.image_url;
    if (src) $("page-image").src = src; else $("page-error").textContent = t("page_no_image");
    auditData = await api("GET", `/api/pages/${encodeURIComponent(id)}/audit`);
    renderAudit();
  } catch (e) { $("page-error").textContent = apiErrorText(e); }
  document.body.dataset.loaded = "1";
}
main();
