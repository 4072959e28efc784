// The reviewers' queue: keyboard first. All text from scans, OCR and the API goes in with
// textContent / DOM nodes, never innerHTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  me: null, round: null, batch: "", order: "confidence",
  current: null, upcoming: null, history: [], browse: -1, selected: new Set(), busy: false, templates: [],
};
const imageCache = new Map();

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const r = await fetch(path, opts);
  if (r.status === 401) { showView("login"); throw new Error("401"); }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) { const e = new Error((data && data.detail) || r.statusText); e.status = r.status; e.data = data; throw e; }
  return data;
}

function showView(name) {
  for (const v of ["login", "choose", "queue"]) $(v + "-view").hidden = v !== name;
  $("logout").hidden = name === "login";
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function preload(item) {
  if (item && item.image_url && !imageCache.has(item.image_url)) {
    const img = new Image();
    img.src = item.image_url;
    imageCache.set(item.image_url, img);
  }
}

function valueText(item, v) {
  if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) return t("none");
  if (item.field_kind === "single" || item.field_kind === "multiple") {
    const labels = (Array.isArray(v) ? v : [v]).map((x) => {
      const o = item.options.find((o) => o.value === x);
      return o ? `${x} – ${o.label}` : String(x);
    });
    return labels.join("; ");
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}

function render(item) {
  state.selected = new Set(Array.isArray(item.value) ? item.value : []);
  $("done-view").hidden = true;
  $("item").hidden = false;
  $("item-error").textContent = "";
  const pos = state.browse >= 0 ? ` (${state.browse + 1}/${state.history.length})` : "";
  $("item-pos").textContent = `${t("item")} #${item.id}${pos} · ${item.template || ""} · ${t("sheet")} ${item.sheet || "?"} · ${t("pageno")} ${item.page || "?"}`;
  $("item-reason").textContent = reasonText(item.reason);
  $("item-page").href = `page.html?id=${encodeURIComponent(item.page_id)}`;
  $("item-question").textContent = item.field_kind === "page" ? reasonText(item.reason) + (item.page_error ? ` — ${item.page_error}` : "") : (item.question || "");
  // never show the previous item's picture under this item's question
  const crop = $("item-crop");
  if (crop.getAttribute("src") !== item.image_url) {
    crop.style.visibility = "hidden";
    crop.onload = () => { crop.style.visibility = "visible"; };
    crop.src = item.image_url;
  }
  crop.alt = item.question || "";
  $("item-suggestion").textContent = item.field_kind === "page" ? "" :
    `${t("suggestion")}: ${valueText(item, item.value)}` + (item.state === "done" ? ` ✓ ${item.decided_by || ""}` : "");
  const opts = $("item-options");
  opts.replaceChildren();
  $("item-text").hidden = !(item.field_kind === "text" || item.field_kind === "code");
  $("item-pageform").hidden = item.field_kind !== "page";
  $("accept").hidden = item.field_kind === "page";
  $("blank").hidden = item.field_kind === "page";
  if (item.field_kind === "single" || item.field_kind === "multiple") {
    item.options.forEach((o, i) => {
      const chosen = Array.isArray(item.value) ? item.value.includes(o.value) : item.value === o.value;
      const b = el("button", { type: "button", class: "option" + (chosen ? " engine" : ""), "data-value": String(o.value) },
        el("kbd", {}, String(i + 1)), " ", o.label);
      b.addEventListener("click", () => choose(i + 1));
      opts.append(b);
    });
  } else if (item.field_kind === "text" || item.field_kind === "code") {
    $("text-input").value = item.value || item.text_suggestion || "";
    $("text-input").focus();
  } else if (item.field_kind === "page") {
    const dup = item.reason === "duplicate sheet";
    $("pf-dup").hidden = !dup;
    $("pf-place").hidden = dup;
    const sel = $("pf-template");
    sel.replaceChildren(...state.templates.map((tp) => el("option", { value: tp.id }, `${tp.id} – ${tp.title}`)));
    if (item.template) sel.value = item.template;
    $("pf-page").value = item.page || 1;
    $("pf-sheet").value = item.sheet || "";
  }
  $("item").dataset.itemId = String(item.id);
  window.__lastRender = { id: item.id, at: performance.now() };
}

async function refreshProgress() {
  const q = state.batch ? `batch=${encodeURIComponent(state.batch)}` : `round=${encodeURIComponent(state.round)}`;
  try {
    const p = await api("GET", `/api/progress?${q}`);
    $("progress").textContent = `${t("left")}: ${p.left} / ${p.total} · ${t("done_today")}: ${p.done_today}`;
    const rows = p.by_reviewer.map((r) => el("li", {}, `${r.name}: ${r.done} (${r.done_today} ${t("done_today")})`));
    $("stats").replaceChildren(el("ul", {}, ...rows));
  } catch (e) { /* progress is informative only */ }
}

function scopeQuery(exclude) {
  const q = state.batch ? `batch=${encodeURIComponent(state.batch)}` : `round=${encodeURIComponent(state.round)}`;
  const ex = exclude.filter(Boolean).join(",");
  return `/api/review/next?${q}&order=${state.order}` + (ex ? `&exclude=${ex}` : "");
}

async function fetchUpcoming() {
  const cur = state.current;
  state.upcoming = await api("GET", scopeQuery([cur && cur.id]));
  preload(state.upcoming);
}

function showDone() {
  state.current = null;
  $("item").hidden = true;
  $("done-view").hidden = false;
  window.__lastRender = { id: null, at: performance.now() };
}

async function advance() {
  if (state.upcoming && (!state.current || state.upcoming.id !== state.current.id)) {
    state.current = state.upcoming;
    state.upcoming = null;
  } else {
    state.current = await api("GET", scopeQuery([]));
  }
  state.browse = -1;
  if (!state.current) { showDone(); refreshProgress(); return; }
  render(state.current);
  fetchUpcoming().catch(() => {});
  refreshProgress();
}

async function decide(value) {
  const item = state.current;
  if (!item || state.busy) return;
  state.busy = true;
  const body = { value };
  if (item.state === "done") body.expected = item.value;  // a correction names what it replaces
  try {
    await api("POST", `/api/review/${item.id}`, body);
    if (state.browse < 0) state.history.push(item.id);
    if (state.browse >= 0) { await goHistory(state.browse + 1); return; }
    await advance();
  } catch (e) {
    if (e.status === 409 && e.data && "current" in e.data) $("item-error").textContent = `${t("changed")}: ${valueText(item, e.data.current)}`;
    else if (e.status === 409 && e.data && e.data.claimed_by) $("item-error").textContent = `${t("claimed")} ${e.data.claimed_by}`;
    else $("item-error").textContent = e.message;
  } finally {
    state.busy = false;
  }
}

function choose(n) {
  const item = state.current;
  if (!item) return;
  if (item.field_kind === "page" && item.reason === "duplicate sheet") {
    const keep = { 1: "this", 2: "other", 3: "both" }[n];
    if (keep) decide({ keep });
    return;
  }
  const o = item.options[n - 1];
  if (!o) return;
  if (item.field_kind === "multiple") {
    if (state.selected.has(o.value)) state.selected.delete(o.value); else state.selected.add(o.value);
    for (const b of $("item-options").children) b.classList.toggle("chosen", state.selected.has(Number(b.dataset.value)));
    return;
  }
  if (item.field_kind === "single") decide(o.value);
}

function acceptOrSave() {
  const item = state.current;
  if (!item) return;
  if (item.field_kind === "multiple") decide([...state.selected].sort((a, b) => a - b));
  else if (item.field_kind === "text" || item.field_kind === "code") decide($("text-input").value.trim() || null);
  else if (item.field_kind === "page") placePage();
  else decide(item.value);
}

function placePage() {
  decide({ template: $("pf-template").value, page: Number($("pf-page").value), sheet: $("pf-sheet").value.trim() });
}

async function goHistory(i) {
  if (i < 0) return;
  if (i >= state.history.length) {  // back to the live queue
    state.browse = -1;
    if (state.current && state.current.state === "done") state.current = null;
    await advance();
    return;
  }
  state.browse = i;
  state.current = await api("GET", `/api/review/${state.history[i]}`);
  render(state.current);
}

async function undo() {
  const last = state.history[state.history.length - 1];
  if (!last || state.busy) return;
  state.busy = true;
  try {
    const item = await api("POST", `/api/review/${last}/undo`);
    state.history.pop();
    if (state.current && state.current.state !== "done") state.upcoming = state.current;  // still claimed by us
    state.current = item;
    state.browse = -1;
    render(item);
    refreshProgress();
  } catch (e) {
    $("item-error").textContent = e.message;
  } finally {
    state.busy = false;
  }
}

function onKey(ev) {
  if (!$("help").hidden) { if (ev.key === "?" || ev.key === "Escape") toggleHelp(); return; }
  if ($("queue-view").hidden) return;
  const inText = ev.target && (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT");
  if (inText && ev.key !== "Enter") return;
  if (ev.key === "?") { toggleHelp(); ev.preventDefault(); return; }
  if (!state.current && !["u", "U", "ArrowLeft", "k", "K"].includes(ev.key)) return;
  if (/^[1-9]$/.test(ev.key)) { choose(Number(ev.key)); ev.preventDefault(); }
  else if (ev.key === "0" || ev.key === "Backspace") { if (state.current.field_kind !== "page") decide(state.current.field_kind === "multiple" ? [] : null); ev.preventDefault(); }
  else if (ev.key === "Enter") { acceptOrSave(); ev.preventDefault(); }
  else if (ev.key === "u" || ev.key === "U") { undo(); ev.preventDefault(); }
  else if (ev.key === "n" || ev.key === "N") { if (state.current.field_kind === "page") decide({ not_questionnaire: true }); }
  else if (ev.key === "ArrowLeft" || ev.key === "k" || ev.key === "K") {
    goHistory(state.browse < 0 ? state.history.length - 1 : state.browse - 1); ev.preventDefault();
  } else if (ev.key === "ArrowRight" || ev.key === "j" || ev.key === "J") {
    if (state.browse >= 0) goHistory(state.browse + 1); ev.preventDefault();
  }
}

function toggleHelp() { $("help").hidden = !$("help").hidden; }

async function loadChooser() {
  showView("choose");
  const rounds = await api("GET", "/api/rounds");
  $("round-select").replaceChildren(...rounds.map((r) => el("option", { value: String(r.id) }, `${r.name} (${r.template})`)));
  await loadBatches();
}

async function loadBatches() {
  const rid = $("round-select").value;
  if (!rid) return;
  const batches = await api("GET", `/api/batches?round=${encodeURIComponent(rid)}`);
  const first = $("batch-select").firstElementChild;
  $("batch-select").replaceChildren(first, ...batches.map((b) =>
    el("option", { value: String(b.id) }, `#${b.id} · ${b.agency || ""} · ${b.pages_done}/${b.pages_total} · ${b.review_pending}`)));
}

async function start() {
  state.round = $("round-select").value;
  state.batch = $("batch-select").value;
  state.order = $("order-select").value;
  const params = new URLSearchParams({ round: state.round, batch: state.batch, order: state.order });
  history.replaceState(null, "", `?${params}`);
  showView("queue");
  state.templates = await api("GET", "/api/templates");
  await advance();
}

async function init() {
  applyLang();
  $("lang").addEventListener("click", () => { LANG = LANG === "vi" ? "en" : "vi"; localStorage.setItem("omr-lang", LANG); applyLang(); if (state.current) render(state.current); });
  $("logout").addEventListener("click", async () => { await api("POST", "/api/logout").catch(() => {}); location.href = "./"; });
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      state.me = await api("POST", "/api/login", { name: $("login-name").value.trim(), token: $("login-token").value.trim() });
      $("who").textContent = `${state.me.name} (${state.me.role})`;
      await loadChooser();
    } catch (e) { $("login-error").textContent = e.message === "401" ? "Sai tên hoặc mã truy cập / wrong name or token" : e.message; }
  });
  $("round-select").addEventListener("change", loadBatches);
  $("start").addEventListener("click", start);
  $("accept").addEventListener("click", acceptOrSave);
  $("blank").addEventListener("click", () => decide(state.current && state.current.field_kind === "multiple" ? [] : null));
  $("undo").addEventListener("click", undo);
  $("prev").addEventListener("click", () => goHistory(state.browse < 0 ? state.history.length - 1 : state.browse - 1));
  $("next").addEventListener("click", () => { if (state.browse >= 0) goHistory(state.browse + 1); });
  $("pf-place").addEventListener("click", placePage);
  $("pf-reject").addEventListener("click", () => decide({ not_questionnaire: true }));
  for (const b of document.querySelectorAll("#pf-dup button")) b.addEventListener("click", () => decide({ keep: b.dataset.keep }));
  $("help-close").addEventListener("click", toggleHelp);
  document.addEventListener("keydown", onKey);
  try {
    state.me = await api("GET", "/api/me");
  } catch (e) { showView("login"); return; }
  $("who").textContent = `${state.me.name} (${state.me.role})`;
  await loadChooser();
  const q = new URLSearchParams(location.search);
  if (q.get("round")) {
    $("round-select").value = q.get("round");
    await loadBatches();
    if (q.get("batch")) $("batch-select").value = q.get("batch");
    if (q.get("order")) $("order-select").value = q.get("order");
    await start();
  }
}

init();
