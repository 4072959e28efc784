// The reviewers' queue, keyboard first. Everything that comes from scans, OCR or the API is put
// into the page with textContent / DOM nodes, never innerHTML: scan and OCR text is untrusted.
"use strict";

const $ = (id) => document.getElementById(id);
const REVIEW_ROLES = ["reviewer", "admin"];
const state = {
  me: null, round: "", batch: "", order: "confidence", templates: [],
  current: null,        // the item on screen
  live: null,           // the queue's item while the reviewer looks back in the history
  mode: "live",         // "live" (the queue) or "history" (own earlier decisions)
  browse: -1,           // index into history while mode === "history"
  upcoming: null,       // the preloaded next item (claimed for us by the server)
  upcomingP: null,      // its request while in flight
  upcomingGen: 0,
  skipped: new Set(),   // items skipped with J: excluded until the rest of the queue is done
  history: [],          // own decisions in this queue: [{id, kind}]
  selected: new Set(),  // multiple choice: option indexes toggled
  busy: false,
};
const imageCache = new Map();

// ---------------------------------------------------------------- API

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET" && state.me && state.me.csrf) opts.headers["X-CSRF-Token"] = state.me.csrf;
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(path, opts); } catch (err) { const e = new Error(t("network")); e.status = 0; throw e; }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    const e = new Error((data && typeof data.detail === "string") ? data.detail : `${r.status} ${r.statusText}`);
    e.status = r.status; e.data = data || {};
    if (r.status === 401 && path !== "/api/login") showLogin();
    throw e;
  }
  return data;
}

function errorText(e) {
  if (e.status === 403) return `${t("forbidden")} (${e.message})`;
  return e.message || String(e);
}

// ---------------------------------------------------------------- small DOM helpers

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-") || k.startsWith("aria-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function showView(name) {
  for (const v of ["login", "choose", "queue"]) $(v + "-view").hidden = v !== name;
  $("logout").hidden = name === "login";
}

function showLogin() {
  showView("login");
  $("who").textContent = "";
  $("login-name").focus();
}

function preload(item) {
  if (!item || !item.image_url || imageCache.has(item.image_url)) return;
  const img = new Image();
  img.decoding = "async";
  img.src = item.image_url;
  imageCache.set(item.image_url, img);
  if (imageCache.size > 40) imageCache.delete(imageCache.keys().next().value);
}

function valueText(item, v) {
  if (v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) return t("none");
  if (item.field_kind === "single" || item.field_kind === "multiple") {
    return (Array.isArray(v) ? v : [v]).map((x) => {
      const i = item.options.findIndex((o) => o.value === x);
      return i >= 0 ? `${i + 1} – ${item.options[i].label}` : String(x);
    }).join("; ");
  }
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

function isChoice(item) { return item.field_kind === "single" || item.field_kind === "multiple"; }
function isTyped(item) { return item.field_kind === "text" || item.field_kind === "code"; }

// ---------------------------------------------------------------- rendering

function render(item) {
  state.current = item;
  $("done-view").hidden = true;
  $("item").hidden = false;
  $("item-error").textContent = "";
  $("queue-error").textContent = "";
  const kind = item.field_kind;

  $("item-mode").textContent = state.mode === "history" ? `${t("history")} ${state.browse + 1}/${state.history.length}` : t("live");
  $("item-mode").className = "mode " + state.mode;
  const where = [`${t("item")} #${item.id}`];
  if (item.template) where.push(item.template);
  if (item.sheet) where.push(`${t("sheet")} ${item.sheet}`);
  if (item.page) where.push(`${t("pageno")} ${item.page}`);
  if (typeof item.confidence === "number" && kind !== "page") where.push(`${Math.round(item.confidence * 100)}%`);
  $("item-pos").textContent = where.join(" · ");
  showReason($("item-reason"), item.reason);
  $("item-page").href = `page.html?id=${encodeURIComponent(item.page_id)}`;
  if (kind === "page") showReason($("item-question"), item.reason, item.page_error);
  else {
    $("item-question").textContent = item.question || item.field_id || "";
    $("item-question").removeAttribute("title");
  }

  // the crop: never show the previous item's picture under this item's question
  const crop = $("item-crop");
  crop.classList.toggle("page-crop", kind === "page");
  if (crop.dataset.src !== item.image_url) {
    crop.dataset.src = item.image_url || "";
    const cached = imageCache.get(item.image_url);
    crop.style.visibility = cached && cached.complete && cached.naturalWidth ? "visible" : "hidden";
    crop.onload = () => { crop.style.visibility = "visible"; };
    crop.onerror = () => { crop.style.visibility = "visible"; };
    if (item.image_url) crop.src = item.image_url; else crop.removeAttribute("src");
  }
  crop.alt = item.question || reasonText(item.reason) || "";

  const sug = $("item-suggestion");
  sug.replaceChildren();
  if (item.state === "done" && kind !== "page") sug.append(`${t("stored")}: `, el("strong", {}, valueText(item, item.value)));
  else if (kind !== "page" && kind !== "text") sug.append(`${t("suggestion")}: `, el("strong", {}, valueText(item, item.value)));
  const note = $("item-note");
  note.textContent = item.state === "done" ? `${t("decided_by")} ${item.decided_by || "?"}. ${t("correction_note")}` : "";

  // options
  const opts = $("item-options");
  state.selected = new Set();
  if (kind === "multiple" && Array.isArray(item.value)) {
    item.options.forEach((o, i) => { if (item.value.includes(o.value)) state.selected.add(i); });
  }
  opts.replaceChildren();
  if (isChoice(item)) {
    item.options.forEach((o, i) => {
      const read = Array.isArray(item.value) ? item.value.includes(o.value) : item.value === o.value;
      const b = el("button", { type: "button", class: "option" + (read ? " engine" : "") + (state.selected.has(i) ? " chosen" : ""),
        "data-index": String(i), "aria-pressed": String(state.selected.has(i)) }, el("kbd", {}, String(i + 1)), " ", o.label);
      b.addEventListener("click", () => choose(i + 1));
      opts.append(b);
    });
  }
  // free text / code
  $("item-text").hidden = !isTyped(item);
  if (isTyped(item)) {
    const input = $("text-input");
    input.value = item.value != null ? String(item.value) : (item.text_suggestion || "");
    input.inputMode = kind === "code" ? "numeric" : "text";
    $("text-label").textContent = kind === "code"
      ? `${t("code_hint")}${item.digits ? ` (${item.digits})` : ""}`
      : `${t("ocr")}: ${item.text_suggestion ? `«${item.text_suggestion}»` : t("no_ocr")}`;
    if (state.mode === "live") { input.focus(); input.select(); }  // in the history, Enter opens it for editing
    else if (document.activeElement === input) input.blur();
  } else if (document.activeElement && document.activeElement !== document.body) {
    document.activeElement.blur();
  }
  // unrecognized page / duplicate sheet
  $("item-pageform").hidden = kind !== "page";
  if (kind === "page") {
    const dup = item.reason === "duplicate sheet";
    $("pf-dup").hidden = !dup;
    $("pf-place").hidden = dup;
    const sel = $("pf-template");
    sel.replaceChildren(...state.templates.map((tp) => el("option", { value: tp.id }, `${tp.id} – ${tp.title}`)));
    sel.value = item.template || state.roundTemplate || (state.templates[0] && state.templates[0].id) || "";
    updatePageMax();
    $("pf-page").value = item.page || 1;
    $("pf-sheet").value = item.sheet || "";
  }
  $("accept").hidden = kind === "page";
  $("blank").hidden = kind === "page";
  $("accept").textContent = (kind === "multiple" || isTyped(item)) ? t("save") : t("accept");
  $("undo").disabled = state.history.length === 0;
  $("prev").disabled = state.history.length === 0 || (state.mode === "history" && state.browse === 0);

  $("item").dataset.itemId = String(item.id);
  window.__lastRender = { id: item.id, at: performance.now() };
}

function updatePageMax() {
  const tp = state.templates.find((x) => x.id === $("pf-template").value);
  $("pf-page").max = tp ? String(tp.pages) : "";
}

function showDone() {
  state.current = null;
  $("item").hidden = true;
  $("done-view").hidden = false;
  $("item").dataset.itemId = "";
  window.__lastRender = { id: null, at: performance.now() };
  $("back-choose").focus();
}

let progressTimer = null;
function refreshProgress() {
  clearTimeout(progressTimer);
  progressTimer = setTimeout(async () => {
    try {
      const p = await api("GET", `/api/progress?${scopeParams()}`);
      $("progress").textContent = `${t("left")}: ${p.left} · ${t("done")}: ${p.done} / ${p.total} · ${t("done_today")}: ${p.done_today}`;
      $("progress-fill").style.width = p.total ? `${Math.round(100 * p.done / p.total)}%` : "0";
      const rows = p.by_reviewer.map((r) => el("tr", {}, el("td", {}, r.name), el("td", {}, String(r.done)), el("td", {}, String(r.done_today))));
      if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 3, class: "muted" }, t("nobody"))));
      $("by-reviewer").tBodies[0].replaceChildren(...rows);
    } catch (e) { /* progress is informative only */ }
  }, 150);
}

// ---------------------------------------------------------------- the queue

function scopeParams() {
  return state.batch ? `batch=${encodeURIComponent(state.batch)}` : `round=${encodeURIComponent(state.round)}`;
}

function nextUrl(exclude) {
  const ex = [...new Set([...exclude, ...state.skipped])].filter((x) => x != null);
  return `/api/review/next?${scopeParams()}&order=${encodeURIComponent(state.order)}` + (ex.length ? `&exclude=${ex.join(",")}` : "");
}

function prefetchUpcoming() {
  const cur = state.current;
  const gen = ++state.upcomingGen;
  state.upcoming = null;
  state.upcomingP = api("GET", nextUrl([cur && cur.id])).then((it) => {
    if (gen !== state.upcomingGen) return;
    state.upcoming = it;
    state.upcomingP = null;
    preload(it);
  }).catch(() => { if (gen === state.upcomingGen) state.upcomingP = null; /* advance() asks again */ });
}

async function advance() {
  let next = null;
  const p = state.upcomingP;
  if (p) await p;
  const cand = state.upcoming;
  state.upcoming = null; state.upcomingP = null; state.upcomingGen++;
  if (cand && !state.skipped.has(cand.id) && !(state.current && cand.id === state.current.id && state.current.state === "pending")) next = cand;
  if (!next) next = await api("GET", nextUrl([]));
  if (!next && state.skipped.size) {  // only skipped items are left: bring them back
    state.skipped.clear();
    next = await api("GET", nextUrl([]));
  }
  state.mode = "live"; state.browse = -1; state.live = null;
  if (!next) { showDone(); refreshProgress(); return; }
  render(next);
  prefetchUpcoming();
  refreshProgress();
}

function saveHistory() {
  try { sessionStorage.setItem(`omr-review:${state.round}:${state.batch}`, JSON.stringify(state.history.slice(-500))); } catch (e) { /* full */ }
}

async function decide(value) {
  const item = state.current;
  if (!item || state.busy) return;
  if (!REVIEW_ROLES.includes(state.me.role)) { $("item-error").textContent = t("readonly"); return; }
  state.busy = true;
  const body = { value };
  if (item.state === "done" && item.field_kind !== "page") body.expected = item.value;  // a correction names what it replaces
  try {
    await api("POST", `/api/review/${item.id}`, body);
    if (state.mode === "live") {
      state.history.push({ id: item.id, kind: item.kind || (item.field_kind === "page" ? "page" : "field") });
      saveHistory();
      await advance();
    } else {
      await goHistory(state.browse + 1);
    }
  } catch (e) {
    show409(e, item);
  } finally {
    state.busy = false;
  }
}

function show409(e, item) {
  if (e.status === 409 && e.data && e.data.claimed_by) {
    $("item-error").textContent = `${t("claimed")} (${e.data.claimed_by}). ${t("claimed_hint")}`;
  } else if (e.status === 409 && e.data && "current" in e.data) {
    // someone else changed it: show their value; the next decision names it as the expected old value
    item.value = e.data.current;
    item.state = "done";
    render(item);
    $("item-error").textContent = `${t("changed")}: ${valueText(item, e.data.current)}. ${t("changed_hint")}`;
  } else {
    $("item-error").textContent = errorText(e);
  }
}

function choose(n) {
  const item = state.current;
  if (!item) return;
  if (item.field_kind === "page") {
    if (item.reason === "duplicate sheet") {
      const keep = { 1: "this", 2: "other", 3: "both" }[n];
      if (keep) decide({ keep });
    }
    return;
  }
  const i = n - 1;
  const o = item.options[i];
  if (!o) return;
  if (item.field_kind === "multiple") {
    if (state.selected.has(i)) state.selected.delete(i); else state.selected.add(i);
    for (const b of $("item-options").children) {
      const on = state.selected.has(Number(b.dataset.index));
      b.classList.toggle("chosen", on);
      b.setAttribute("aria-pressed", String(on));
    }
    return;
  }
  if (item.field_kind === "single") decide(o.value);
}

function blank() {
  const item = state.current;
  if (!item || item.field_kind === "page") return;
  decide(item.field_kind === "multiple" ? [] : null);
}

function acceptOrSave() {
  const item = state.current;
  if (!item) return;
  if (item.field_kind === "multiple") decide([...state.selected].sort((a, b) => a - b).map((i) => item.options[i].value));
  else if (isTyped(item)) decide($("text-input").value.trim() || null);
  else if (item.field_kind === "page") { if (item.reason !== "duplicate sheet") placePage(); }
  else decide(item.value);
}

function placePage() {
  decide({ template: $("pf-template").value, page: Number($("pf-page").value), sheet: $("pf-sheet").value.trim() });
}

function notQuestionnaire() {
  if (state.current && state.current.field_kind === "page") decide({ not_questionnaire: true });
}

async function goHistory(i) {
  if (!state.history.length) return;
  if (i < 0) i = 0;
  try {
    if (i >= state.history.length) {  // back to the live queue
      const live = state.live;
      state.mode = "live"; state.browse = -1; state.live = null;
      if (live && live.state === "pending") { render(live); return; }
      await advance();
      return;
    }
    if (state.mode === "live") state.live = state.current;
    const item = await api("GET", `/api/review/${state.history[i].id}`);
    state.mode = "history"; state.browse = i;
    render(item);
  } catch (e) {
    $("item-error").textContent = errorText(e);
  }
}

function back() { goHistory(state.mode === "history" ? state.browse - 1 : state.history.length - 1); }

async function forward() {
  if (state.busy) return;
  if (state.mode === "history") { goHistory(state.browse + 1); return; }
  if (!state.current) return;
  state.busy = true;
  try {  // skip: the item goes to the end of this session's queue
    state.skipped.add(state.current.id);
    await advance();
  } catch (e) {
    $("item-error").textContent = errorText(e);
  } finally { state.busy = false; }
}

async function undo() {
  if (state.busy) return;
  const last = state.history[state.history.length - 1];
  if (!last) { $("item-error").textContent = t("nothing_undo"); return; }
  if (last.kind === "page") {  // the server cannot undo a page decision: reopen it to decide again
    await goHistory(state.history.length - 1);
    $("item-error").textContent = t("page_undo");
    return;
  }
  state.busy = true;
  try {
    const item = await api("POST", `/api/review/${last.id}/undo`);
    state.history.pop();
    saveHistory();
    const cur = state.mode === "live" ? state.current : state.live;
    if (cur && cur.state === "pending" && cur.id !== item.id) {  // still claimed by us: it comes next
      state.upcomingGen++; state.upcomingP = null; state.upcoming = cur;
    }
    state.mode = "live"; state.browse = -1; state.live = null;
    render(item);
    refreshProgress();
  } catch (e) {
    $("item-error").textContent = errorText(e);
  } finally {
    state.busy = false;
  }
}

// ---------------------------------------------------------------- keyboard

function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (!$("help").hidden) {
    if (ev.key === "?" || ev.key === "Escape") { toggleHelp(); ev.preventDefault(); }
    return;
  }
  if (!$("choose-view").hidden) {
    if (ev.key === "Enter" && ev.target.tagName !== "BUTTON") { ev.preventDefault(); start(); }
    return;
  }
  if ($("queue-view").hidden) return;
  const tag = ev.target && ev.target.tagName;
  const inField = tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA";
  if (inField) {
    if (ev.key === "Escape") { ev.target.blur(); ev.preventDefault(); }
    else if (ev.key === "Enter") {
      ev.preventDefault();
      if (state.current && state.current.field_kind === "page") placePage(); else acceptOrSave();
    }
    return;
  }
  if (tag === "BUTTON" && (ev.key === "Enter" || ev.key === " ")) return;  // the focused button's own action
  const k = ev.key;
  if (k === "?") { toggleHelp(); ev.preventDefault(); return; }
  if (k === "u" || k === "U") { undo(); ev.preventDefault(); return; }
  if (k === "ArrowLeft" || k === "k" || k === "K") { back(); ev.preventDefault(); return; }
  if (k === "ArrowRight" || k === "j" || k === "J") { forward(); ev.preventDefault(); return; }
  if (!state.current) return;
  if (/^[1-9]$/.test(k)) { choose(Number(k)); ev.preventDefault(); }
  else if (k === "0" || k === "Backspace") { blank(); ev.preventDefault(); }
  else if (k === "Enter") {
    ev.preventDefault();
    if (isTyped(state.current)) { $("text-input").focus(); $("text-input").select(); } else acceptOrSave();
  }
  else if (k === "n" || k === "N") { notQuestionnaire(); ev.preventDefault(); }
}

function toggleHelp() {
  const h = $("help");
  h.hidden = !h.hidden;
  if (!h.hidden) $("help-close").focus(); else if (document.activeElement) document.activeElement.blur();
}

// ---------------------------------------------------------------- choosing a queue

function loadChooser() {
  state.chooserReady = fillChooser();
  return state.chooserReady;
}

async function fillChooser() {
  $("choose-error").textContent = "";
  const canReview = REVIEW_ROLES.includes(state.me.role);
  $("start").disabled = !canReview;
  if (!canReview) $("choose-error").textContent = t("readonly");
  try {
    const rounds = await api("GET", "/api/rounds");
    state.rounds = rounds;
    $("round-select").replaceChildren(...rounds.map((r) =>
      el("option", { value: String(r.id) }, `${r.name}${r.template ? ` (${r.template}${r.period ? `, ${r.period}` : ""})` : ""}`)));
    if (rounds.length) $("round-select").value = String(rounds[rounds.length - 1].id);
    await loadBatches();
  } catch (e) { $("choose-error").textContent = errorText(e); }
  showView("choose");  // shown once the rounds are in: Enter right away starts the right queue
  if (canReview) $("start").focus();
}

async function loadBatches() {
  const rid = $("round-select").value;
  const first = $("batch-select").firstElementChild;
  if (!rid) { $("batch-select").replaceChildren(first); return; }
  const batches = await api("GET", `/api/batches?round=${encodeURIComponent(rid)}`);
  $("batch-select").replaceChildren(first, ...batches.map((b) => {
    const label = LANG === "vi"
      ? `Lô #${b.id}${b.agency ? ` · ${b.agency}` : ""} · ${b.pages_done}/${b.pages_total} trang · ${b.review_pending} chờ duyệt`
      : `Batch #${b.id}${b.agency ? ` · ${b.agency}` : ""} · ${b.pages_done}/${b.pages_total} pages · ${b.review_pending} to review`;
    return el("option", { value: String(b.id) }, label);
  }));
}

async function start() {
  if (!REVIEW_ROLES.includes(state.me.role)) { $("choose-error").textContent = t("readonly"); return; }
  if (state.chooserReady) await state.chooserReady;
  state.round = $("round-select").value;
  state.batch = $("batch-select").value;
  state.order = $("order-select").value;
  if (!state.round) return;
  const rnd = (state.rounds || []).find((r) => String(r.id) === state.round);
  state.roundTemplate = rnd ? rnd.template : "";
  $("progress").textContent = t("loading");
  const params = new URLSearchParams({ round: state.round, batch: state.batch, order: state.order });
  history.replaceState(null, "", `?${params}`);
  try { localStorage.setItem("omr-last-queue", `./?${params}`); } catch (e) { /* ignore */ }
  try { state.history = JSON.parse(sessionStorage.getItem(`omr-review:${state.round}:${state.batch}`) || "[]"); } catch (e) { state.history = []; }
  state.skipped.clear();
  state.current = null; state.upcoming = null; state.upcomingP = null; state.mode = "live"; state.browse = -1;
  showView("queue");
  $("item").hidden = true;
  try {
    if (!state.templates.length) state.templates = await api("GET", "/api/templates");
    await advance();
  } catch (e) {
    $("queue-error").textContent = errorText(e);
  }
}

async function afterLogin() {
  $("who").textContent = `${state.me.name} (${state.me.role})`;
  await loadChooser();
}

async function init() {
  applyLang();
  $("lang").addEventListener("click", () => {
    toggleLang();
    if (state.current && !$("queue-view").hidden) render(state.current);
    if (!$("choose-view").hidden) loadBatches().catch(() => {});
    refreshProgress();
    if ($("lang").blur) $("lang").blur();
  });
  $("logout").addEventListener("click", async () => { await api("POST", "/api/logout").catch(() => {}); location.href = "./"; });
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try {
      state.me = await api("POST", "/api/login", { name: $("login-name").value.trim(), token: $("login-token").value.trim() });
      $("login-token").value = "";
      await afterLogin();
    } catch (e) { $("login-error").textContent = e.status === 401 || e.status === 403 ? t("bad_login") : errorText(e); }
  });
  $("round-select").addEventListener("change", () => loadBatches().catch((e) => { $("choose-error").textContent = errorText(e); }));
  $("start").addEventListener("click", start);
  $("back-choose").addEventListener("click", () => { history.replaceState(null, "", "./"); loadChooser(); });
  $("accept").addEventListener("click", acceptOrSave);
  $("blank").addEventListener("click", blank);
  $("undo").addEventListener("click", undo);
  $("prev").addEventListener("click", back);
  $("next").addEventListener("click", forward);
  $("pf-place").addEventListener("click", placePage);
  $("pf-reject").addEventListener("click", notQuestionnaire);
  $("pf-template").addEventListener("change", updatePageMax);
  for (const b of document.querySelectorAll("#pf-dup button")) b.addEventListener("click", () => decide({ keep: b.dataset.keep }));
  $("help-open").addEventListener("click", toggleHelp);
  $("help-close").addEventListener("click", toggleHelp);
  // mouse clicks leave focus on buttons; keep the keyboard working on the queue
  $("item-actions").addEventListener("click", () => { if (document.activeElement) document.activeElement.blur(); });
  document.addEventListener("keydown", onKey);
  try {
    state.me = await api("GET", "/api/me");
  } catch (e) { showLogin(); return; }
  await afterLogin();
  const q = new URLSearchParams(location.search);
  if (q.get("round") && REVIEW_ROLES.includes(state.me.role)) {
    $("round-select").value = q.get("round");
    await loadBatches().catch(() => {});
    if (q.get("batch")) $("batch-select").value = q.get("batch");
    if (q.get("order")) $("order-select").value = q.get("order");
    await start();
  }
}

init();
