// The reviewers' queue, keyboard first. Everything that comes from scans, OCR or the API is put
// into the page with textContent / DOM nodes, never innerHTML: scan and OCR text is untrusted.
// Talks to the server only through api.js (CSRF header, 401, errors in the reader's language);
// the manual entry of an unplaceable page lives in manual.js.
"use strict";

const $ = (id) => document.getElementById(id);
const REVIEW_ROLES = ["reviewer", "admin"];
const ACTIVE_BATCH = new Set(["queued", "processing"]);
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
  touched: false,       // the reviewer chose something on this item (a key or a click)
  manual: false,        // the page item shows the manual entry form
  busy: false,
  batches: new Map(),   // batch id -> the last GET /api/batches answer (live labels)
};
const imageCache = new Map();

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
  if (name !== "choose") stopBatchWatch();
}

function showLogin() {
  showView("login");
  $("who").textContent = "";
  state.me = null;
  API.csrf = null;
  $("login-name").focus();
}

// a 401 anywhere (the session ended or expired): back to the login form
API.onUnauthorized = () => {
  if (!$("login-view").hidden) return;
  showLogin();
  $("login-error").textContent = t("session_ended");
};

function flash(text, kind = "ok") {
  const f = $("item-flash");
  f.textContent = text;
  f.className = `flash ${kind}`;
}

function preload(item) {
  if (!item || !item.image_url || imageCache.has(item.image_url)) return;
  if (item.field_kind === "page" && !item.page_image_url) return;  // no picture to fetch
  const img = new Image();
  img.decoding = "async";
  img.src = item.image_url;
  imageCache.set(item.image_url, img);
  if (imageCache.size > 40) imageCache.delete(imageCache.keys().next().value);
}

function isEmpty(v) { return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0); }

function optionText(item, x) {
  const i = item.options.findIndex((o) => o.value === x);
  return i >= 0 ? `${i + 1} – ${item.options[i].label}` : String(x);
}

function valueText(item, v) {
  if (isEmpty(v)) return t("none");
  if (isChoice(item)) return (Array.isArray(v) ? v : [v]).map((x) => optionText(item, x)).join("; ");
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

function isChoice(item) { return item.field_kind === "single" || item.field_kind === "multiple"; }
function isTyped(item) { return item.field_kind === "text" || item.field_kind === "code"; }
// a two-marks item: no value is proposed, Enter stores nothing the reviewer did not choose
function isTwoMarks(item) { return item.field_kind !== "page" && item.status === "multiple" && item.state !== "done"; }
function isDuplicate(item) { return item.field_kind === "page" && item.reason === "duplicate sheet"; }
function isUnrecognized(item) { return item.field_kind === "page" && item.reason === "unrecognized page"; }
// a page in error (the reader failed on it): read it again, key it in from its image, or reject it
function isUnreadable(item) { return item.field_kind === "page" && item.reason === "page could not be read"; }
function canKeyIn(item) { return isUnrecognized(item) || isUnreadable(item); }
// markers found, so the engine can read the page once a reviewer names the form (older servers: an aligned image)
function canRead(item) {
  if (typeof item.can_read === "boolean") return item.can_read;
  return typeof item.page_image_url === "string" && item.page_image_url.endsWith("/aligned");
}

// The engine's proposal for a field: `proposed` (the API's own), else the stored value; never for two marks.
function proposal(item) {
  if (isTwoMarks(item)) return null;
  if ("proposed" in item) return item.proposed;
  if (item.field_kind === "text") return null;  // tesseract's reading is a suggestion, not a proposal
  return item.value;
}

// What a person typed for a text or code field (the engine's OCR is never put into the box).
function typedValue(item) {
  if (isEmpty(item.value)) return "";
  if (item.source === "engine" || item.source === "ocr") return "";
  return String(item.value);
}

// The hint for a text/code item: what tesseract (or the engine) read, to copy in with C.
function textSuggestion(item) {
  if (item.field_kind === "text") return item.text_suggestion || "";
  const p = proposal(item);
  return isEmpty(p) ? "" : String(p);
}

// ---------------------------------------------------------------- rendering

function render(item) {
  state.current = item;
  state.touched = false;
  state.manual = false;
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
  const noPicture = kind === "page" && !item.page_image_url;
  const crop = $("item-crop");
  crop.classList.toggle("page-crop", kind === "page");
  if (crop.dataset.src !== item.image_url) {
    crop.dataset.src = item.image_url || "";
    const cached = imageCache.get(item.image_url);
    const ready = cached && cached.complete && cached.naturalWidth;
    crop.style.visibility = ready ? "visible" : "hidden";
    if (!ready) crop.removeAttribute("src");  // not the last picture's size while this one loads
    crop.onload = () => { crop.style.visibility = "visible"; };
    crop.onerror = () => { crop.style.visibility = "visible"; };
    if (item.image_url && !noPicture) crop.src = item.image_url; else crop.removeAttribute("src");
  }
  crop.alt = item.question || reasonText(item.reason) || "";
  // a page whose file could not be read has no picture at all: say so instead of a broken image
  $("crop-wrap").hidden = isDuplicate(item) || noPicture;
  $("item-note").textContent = "";
  $("dup-view").hidden = !isDuplicate(item);
  $("manual").hidden = true;
  $("queue-cols").classList.remove("wide");

  renderSuggestion(item);
  const note = $("item-note");
  if (item.state === "done") note.textContent = `${t("decided_by")} ${item.decided_by || "?"}. ${t("correction_note")}`;
  else if (noPicture) note.textContent = t("page_no_picture");

  // options: the engine's proposal outlined; for two marks, the marked options highlighted
  const opts = $("item-options");
  state.selected = new Set();
  const prop = proposal(item);
  const marks = Array.isArray(item.marks) ? item.marks : [];
  if (kind === "multiple" && Array.isArray(item.state === "done" ? item.value : prop)) {
    const pre = item.state === "done" ? item.value : prop;
    item.options.forEach((o, i) => { if (pre.includes(o.value)) state.selected.add(i); });
  }
  opts.replaceChildren();
  if (isChoice(item)) {
    item.options.forEach((o, i) => {
      const read = !isTwoMarks(item) && (Array.isArray(prop) ? prop.includes(o.value) : prop === o.value);
      const marked = isTwoMarks(item) && marks.includes(o.value);
      const b = el("button", {
        type: "button",
        class: "option" + (read ? " engine" : "") + (marked ? " marked" : "") + (state.selected.has(i) ? " chosen" : ""),
        "data-index": String(i), "aria-pressed": String(state.selected.has(i)),
      }, el("kbd", {}, String(i + 1)), " ", o.label);
      if (marked) b.append(" ", el("span", { class: "badge" }, t("marked_badge")));
      b.addEventListener("click", () => choose(i + 1));
      opts.append(b);
    });
  }
  // free text / code: the box holds only what a person typed; the reading sits beside it
  $("item-text").hidden = !isTyped(item);
  const input = $("text-input");
  if (isTyped(item)) {
    input.value = typedValue(item);
    input.inputMode = kind === "code" ? "numeric" : "text";
    $("text-label").textContent = kind === "code"
      ? `${t("code_box")}${item.digits ? ` (${item.digits} ${t("code_hint")})` : ""}`
      : t("text_box");
    const sug = textSuggestion(item);
    $("text-sugg-label").textContent = kind === "code" ? `${t("suggestion")}:` : `${t("ocr")}:`;
    $("text-sugg-value").textContent = sug || (kind === "code" ? t("none") : t("no_ocr"));
    $("text-sugg-value").classList.toggle("muted", !sug);
    $("text-copy").disabled = !sug;
    $("text-hint").textContent = t("text_hint");
  }
  // keys, not the text box, have the focus when an item appears: 0 is "blank", never a typed "0"
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();

  // unrecognized page / duplicate sheet / page to place
  $("item-pageform").hidden = kind !== "page";
  if (kind === "page") {
    const dup = isDuplicate(item);
    $("pf-dup").hidden = !dup;
    const placeable = !dup && !isUnreadable(item) && !(isUnrecognized(item) && !canRead(item));
    for (const id of ["pf-place", "pf-template-l", "pf-page-l", "pf-sheet-l"]) $(id).hidden = !placeable;
    $("pf-manual").hidden = !canKeyIn(item);
    $("pf-retry").hidden = !(isUnreadable(item) && item.can_retry !== false);
    const sel = $("pf-template");
    sel.replaceChildren(...state.templates.map((tp) => el("option", { value: tp.id }, `${tp.id} – ${tp.title}`)));
    sel.value = item.template || state.roundTemplate || (state.templates[0] && state.templates[0].id) || "";
    updatePageMax();
    $("pf-page").value = item.page || 1;
    $("pf-sheet").value = item.sheet || "";
    if (dup) showDuplicate(item);
    if (isUnrecognized(item) && !canRead(item) && item.state !== "done") openManual(item);
  }
  $("accept").hidden = kind === "page";
  $("blank").hidden = kind === "page";
  $("invalid").hidden = !(kind === "single" || (kind === "code" && item.status === "multiple"));
  $("accept").textContent = (kind === "multiple" || isTyped(item)) ? t("save") : t("accept");
  $("accept").disabled = isTwoMarks(item) && kind === "single";
  $("undo").disabled = state.history.length === 0;
  $("prev").disabled = state.history.length === 0 || (state.mode === "history" && state.browse === 0);

  $("item").dataset.itemId = String(item.id);
  window.__lastRender = { id: item.id, at: performance.now() };
}

function renderSuggestion(item) {
  const kind = item.field_kind;
  const sug = $("item-suggestion");
  sug.replaceChildren();
  sug.className = "";
  if (kind === "page") return;
  if (item.state === "done") {
    const stored = item.status === "multiple" && isEmpty(item.value) ? t("invalid_value") : valueText(item, item.value);
    sug.append(`${t("stored")}: `, el("strong", {}, stored));
  } else if (isTwoMarks(item)) {
    sug.className = "two-marks";
    const marks = Array.isArray(item.marks) ? item.marks : [];
    sug.append(`${t("two_marks")}${marks.length ? ": " : ""}`);
    if (marks.length) sug.append(el("strong", {}, marks.map((m) => optionText(item, m)).join("; ")));
    sug.append(". ", t(kind === "single" ? "two_marks_hint" : "two_marks_hint_multi"));
  } else if (kind !== "text" && kind !== "code") {
    sug.append(`${t("suggestion")}: `, el("strong", {}, valueText(item, proposal(item))));
  }
}

function updatePageMax() {
  const tp = state.templates.find((x) => x.id === $("pf-template").value);
  $("pf-page").max = tp ? String(tp.pages) : "";
}

// ---------------------------------------------------------------- duplicate sheet: both pages side by side

function pageCaption(p, whichKey) {
  const parts = [t(whichKey), `${t("page_title")} #${p.id}`];
  if (p.sheet) parts.push(`${t("sheet")} ${p.sheet}`);
  if (p.page) parts.push(`${t("pageno")} ${p.page}`);
  if (p.source) parts.push(`${p.source} (${t("of_file").replace("{n}", String((p.index || 0) + 1))})`);
  if (p.batch_id) parts.push(`${t("batch_word")} #${p.batch_id}`);
  return parts.join(" · ");
}

function setDupImage(which, p) {
  const img = $(`dup-${which}-img`);
  const src = p ? (p.aligned_image_url || p.image_url) : null;
  if (src) img.src = src; else img.removeAttribute("src");
  img.alt = p ? pageCaption(p, which === "this" ? "dup_this" : "dup_other") : "";
  $(`dup-${which}-link`).href = p ? `page.html?id=${encodeURIComponent(p.id)}` : "#";
  $(`dup-${which}-cap`).textContent = p ? pageCaption(p, which === "this" ? "dup_this" : "dup_other") : t("dup_missing");
}

async function showDuplicate(item) {
  const here = { id: item.page_id, sheet: item.sheet, page: item.page, batch_id: item.batch_id,
    aligned_image_url: item.page_image_url, image_url: item.page_image_url };
  setDupImage("this", here);
  setDupImage("other", item.other_page || null);
  try {
    // the file name of this page; and, from a server without `other_page`, the page it duplicates
    const mine = await api("GET", `/api/pages/${encodeURIComponent(item.page_id)}`);
    if (state.current !== item) return;
    setDupImage("this", mine);
    if (!item.other_page && mine.duplicate_of) {
      const other = await api("GET", `/api/pages/${encodeURIComponent(mine.duplicate_of)}`);
      if (state.current === item) setDupImage("other", other);
    }
  } catch (e) { if (state.current === item) $("item-error").textContent = apiErrorText(e); }
}

// ---------------------------------------------------------------- the done screen

let doneTimer = null;
let lastAutoAdvance = 0;

function showDone() {
  state.current = null;
  $("item").hidden = true;
  $("done-view").hidden = false;
  $("item").dataset.itemId = "";
  $("done-text").textContent = t("loading");
  $("done-text").className = "";
  window.__lastRender = { id: null, at: performance.now() };
  $("back-choose").focus();
  checkDone();
}

// "All done" only when nobody else holds an item of this queue and no page is still being read.
async function checkDone() {
  clearTimeout(doneTimer);
  if ($("done-view").hidden || $("queue-view").hidden) return;
  let p = null;
  try { p = await api("GET", `/api/progress?${scopeParams()}`); } catch (e) { $("done-text").textContent = apiErrorText(e); }
  if ($("done-view").hidden) return;
  let again = false;
  if (p) {
    // a server without held_by_others: every pending item is held by someone else once next gives nothing
    const held = typeof p.held_by_others === "number" ? p.held_by_others : p.left;
    const reading = [...state.batches.values()].some((b) => ACTIVE_BATCH.has(b.status) && (!state.batch || String(b.id) === state.batch));
    if ((p.left > held || (reading && p.left > 0)) && Date.now() - lastAutoAdvance > 3000) {
      // a claim ran out, or new items came in: take them (at most every 3 s, should the server disagree)
      lastAutoAdvance = Date.now();
      await advance().catch((e) => { $("queue-error").textContent = apiErrorText(e); });
      return;
    }
    if (held > 0) {
      $("done-text").textContent = t("held_by_others").replace("{n}", String(held));
      $("done-text").className = "held";
      again = true;
    } else if (reading) {
      $("done-text").textContent = t("still_reading");
      $("done-text").className = "held";
      again = true;
    } else {
      $("done-text").textContent = t("alldone");
      $("done-text").className = "all-done";
    }
    showProgress(p);
  }
  if (again || !p) doneTimer = setTimeout(checkDone, 5000);
}

let progressTimer = null;
function refreshProgress() {
  clearTimeout(progressTimer);
  progressTimer = setTimeout(async () => {
    try { showProgress(await api("GET", `/api/progress?${scopeParams()}`)); } catch (e) { /* progress is informative only */ }
  }, 150);
}

function showProgress(p) {
  const parts = [`${t("left")}: ${p.left}`, `${t("done")}: ${p.done} / ${p.total}`, `${t("done_today")}: ${p.done_today}`];
  if (typeof p.held_by_others === "number" && p.held_by_others > 0) parts.push(`${t("held_short")}: ${p.held_by_others}`);
  $("progress").textContent = parts.join(" · ");
  $("progress-fill").style.width = p.total ? `${Math.round(100 * p.done / p.total)}%` : "0";
  const rows = p.by_reviewer.map((r) => el("tr", {}, el("td", {}, r.name), el("td", {}, String(r.done)), el("td", {}, String(r.done_today))));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 3, class: "muted" }, t("nobody"))));
  $("by-reviewer").tBodies[0].replaceChildren(...rows);
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

// Send a decision: `value` for a field, or an object of page decision keys; `extra` goes at the top level
// ({invalid: true}). Every decision names the item's revision. opts.done() gives a message to show after a 200.
async function decide(value, opts = {}) {
  const item = state.current;
  if (!item || state.busy) return;
  if (!REVIEW_ROLES.includes(state.me.role)) { $("item-error").textContent = t("readonly"); return; }
  state.busy = true;
  $("item-flash").textContent = "";
  const body = opts.extra ? { ...opts.extra } : { value };
  if (typeof item.revision === "number") body.revision = item.revision;
  if (item.state === "done" && item.field_kind !== "page") body.expected = item.value;  // a correction names what it replaces
  try {
    const out = await api("POST", `/api/review/${item.id}`, body);
    if (opts.done) flash(opts.done(out || {}), opts.flashKind ? opts.flashKind(out || {}) : "ok");
    if (state.mode === "live") {
      state.history.push({ id: item.id, kind: item.kind || (item.field_kind === "page" ? "page" : "field") });
      saveHistory();
      await advance();
    } else {
      await goHistory(state.browse + 1);
    }
  } catch (e) {
    await showConflict(e, item);
  } finally {
    state.busy = false;
  }
}

// 409: someone holds the item, or someone else decided first (show who and the current value; reload the item)
async function showConflict(e, item) {
  if (e.status === 409 && e.data && e.data.claimed_by) {
    $("item-error").textContent = `${t("claimed")} (${e.data.claimed_by}). ${t("claimed_hint")}`;
    return;
  }
  if (e.status === 409 && e.data && "current" in e.data) {
    let fresh = null;
    try { fresh = await api("GET", `/api/review/${item.id}`); } catch (err) { /* keep what the 409 says */ }
    if (!fresh) {
      fresh = { ...item, value: e.data.current, state: e.data.state || "done" };
      const st = e.data.current_status || e.data.status;
      if (st) fresh.status = st;
      if (typeof e.data.revision === "number") fresh.revision = e.data.revision;
    }
    if (state.current === item) render(fresh);
    const by = e.data.decided_by || fresh.decided_by;
    const current = item.field_kind === "page" ? "" : `: ${fresh.status === "multiple" && isEmpty(e.data.current) ? t("invalid_value") : valueText(fresh, e.data.current)}`;
    $("item-error").textContent = `${t("changed")}${by ? ` (${t("by")} ${by})` : ""}${current}. ${t("changed_hint")}`;
    return;
  }
  if (e.status === 422 && item.field_kind === "page") {
    $("item-error").textContent = `${t("not_placed")}: ${apiErrorText(e).replace(/^[^:]*: /, "")}`;
    return;
  }
  $("item-error").textContent = apiErrorText(e);
}

function choose(n) {
  const item = state.current;
  if (!item || state.manual) return;
  if (item.field_kind === "page") {
    if (isDuplicate(item)) {
      const keep = { 1: "this", 2: "other", 3: "both" }[n];
      if (keep) decideDuplicate(keep);
    }
    return;
  }
  const i = n - 1;
  const o = item.options[i];
  if (!o) return;
  if (item.field_kind === "multiple") {
    state.touched = true;
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

function decideDuplicate(keep) {
  decide({ keep }, { done: () => t(`dup_done_${keep}`) });
}

function blank() {
  const item = state.current;
  if (!item || item.field_kind === "page") return;
  decide(item.field_kind === "multiple" ? [] : null);
}

function invalid() {
  const item = state.current;
  if (!item || $("invalid").hidden) return;
  decide(null, { extra: { invalid: true } });
}

function copySuggestion() {
  const item = state.current;
  if (!item || !isTyped(item)) return;
  const sug = textSuggestion(item);
  if (!sug) return;
  const input = $("text-input");
  input.value = sug;
  input.focus();
  input.setSelectionRange(sug.length, sug.length);
}

function focusText() {
  const input = $("text-input");
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

function acceptOrSave() {
  const item = state.current;
  if (!item) return;
  if (item.field_kind === "page") {
    if (state.manual) $("mf-sheet").focus();  // Enter starts the entry; Ctrl+Enter in the form saves it
    else if (!isDuplicate(item) && !$("pf-place").hidden) placePage();
    return;
  }
  if (isTyped(item)) {
    const v = $("text-input").value.trim();
    if (!v) {  // Enter never stores a blank: 0 does, on purpose
      if (document.activeElement === $("text-input")) $("item-error").textContent = t("empty_enter");
      else focusText();
      return;
    }
    decide(v);
    return;
  }
  if (isTwoMarks(item) && !(item.field_kind === "multiple" && state.touched)) {
    $("item-error").textContent = t(item.field_kind === "single" ? "two_marks_enter" : "two_marks_enter_multi");
    return;
  }
  if (item.field_kind === "multiple") decide([...state.selected].sort((a, b) => a - b).map((i) => item.options[i].value));
  else decide(proposal(item));
}

function placePage() {
  const tid = $("pf-template").value;
  const pno = Number($("pf-page").value);
  decide({ template: tid, page: pno, sheet: $("pf-sheet").value.trim() }, {
    done: (out) => (typeof out.fields_read === "number"
      ? t("placed_read").replace("{n}", String(out.fields_read))
        .replace("{r}", out.review_items ? t("placed_review").replace("{n}", String(out.review_items)) : "")
      : t("placed").replace("{s}", word("status_names", out.status || ""))).replace("{f}", tid).replace("{p}", String(pno)),
    flashKind: (out) => (out.fields_read === 0 || (out.status && out.status !== "ok" && out.status !== "done") ? "warn" : "ok"),
  });
}

function retryPage() {
  if (state.current && isUnreadable(state.current) && !$("pf-retry").hidden) decide({ retry: true }, { done: () => t("retry_done") });
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
    $("item-error").textContent = apiErrorText(e);
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
    $("item-error").textContent = apiErrorText(e);
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
    $("item-error").textContent = apiErrorText(e);
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
    // Enter on a button or a link (the navigation) is that element's own action
    if (ev.key === "Enter" && ev.target.tagName !== "BUTTON" && ev.target.tagName !== "A") { ev.preventDefault(); start(); }
    return;
  }
  if ($("queue-view").hidden) return;
  const tag = ev.target && ev.target.tagName;
  const inField = tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA";
  if (inField) {
    if (ev.key === "Escape") { ev.target.blur(); ev.preventDefault(); }
    else if (ev.key === "Enter") {
      ev.preventDefault();
      if (state.current && state.current.field_kind === "page") acceptOrSave();
      else if (ev.target === $("text-input")) acceptOrSave();
    }
    return;
  }
  if (tag === "BUTTON" && (ev.key === "Enter" || ev.key === " ")) return;  // the focused button's own action
  if (tag === "A" && ev.key === "Enter") return;  // a focused link (the navigation): follow it
  const k = ev.key;
  if (k === "?") { toggleHelp(); ev.preventDefault(); return; }
  if (!$("done-view").hidden && (k === "r" || k === "R")) { checkDone(); ev.preventDefault(); return; }
  if (k === "u" || k === "U") { undo(); ev.preventDefault(); return; }
  if (k === "ArrowLeft" || k === "k" || k === "K") { back(); ev.preventDefault(); return; }
  if (k === "ArrowRight" || k === "j" || k === "J") { forward(); ev.preventDefault(); return; }
  const item = state.current;
  if (!item) return;
  if (/^[1-9]$/.test(k)) { choose(Number(k)); ev.preventDefault(); }
  else if (k === "0" || k === "Backspace") { if (!state.manual) blank(); ev.preventDefault(); }
  else if (k === "Enter") { ev.preventDefault(); acceptOrSave(); }
  else if (k === "x" || k === "X") { invalid(); ev.preventDefault(); }
  else if ((k === "c" || k === "C") && isTyped(item)) { copySuggestion(); ev.preventDefault(); }
  else if ((k === "t" || k === "T") && isTyped(item)) { focusText(); ev.preventDefault(); }
  else if ((k === "m" || k === "M") && canKeyIn(item) && !state.manual) { openManual(item); ev.preventDefault(); }
  else if ((k === "r" || k === "R") && isUnreadable(item)) { retryPage(); ev.preventDefault(); }
  else if (k === "n" || k === "N") { notQuestionnaire(); ev.preventDefault(); }
}

function toggleHelp() {
  const h = $("help");
  h.hidden = !h.hidden;
  if (!h.hidden) $("help-close").focus(); else if (document.activeElement) document.activeElement.blur();
}

// ---------------------------------------------------------------- choosing a queue; batches read live

function loadChooser() {
  state.chooserReady = fillChooser();
  return state.chooserReady;
}

function roleLine(role) {
  return t(`role_${role}`) !== `role_${role}` ? t(`role_${role}`) : t("role_other").replace("{r}", role);
}

async function fillChooser() {
  $("choose-error").textContent = "";
  const canReview = REVIEW_ROLES.includes(state.me.role);
  $("start").disabled = !canReview;
  $("role-note").textContent = roleLine(state.me.role);
  try {
    const rounds = await api("GET", "/api/rounds");
    state.rounds = rounds;
    $("round-select").replaceChildren(...rounds.map((r) =>
      el("option", { value: String(r.id) }, `${r.name}${r.template ? ` (${r.template}${r.period ? `, ${r.period}` : ""})` : ""}`)));
    if (rounds.length) $("round-select").value = String(rounds[rounds.length - 1].id);
    else $("choose-error").textContent = t("no_rounds");
    await loadBatches();
  } catch (e) { $("choose-error").textContent = apiErrorText(e); }
  showView("choose");  // shown once the rounds are in: Enter right away starts the right queue
  watchBatches();
  // the start button takes the focus unless the user has already put it somewhere (a navigation link)
  const free = !document.activeElement || document.activeElement === document.body;
  if (canReview && free) $("start").focus();
}

function batchLabel(b) {
  const parts = [`${t("batch_word")} #${b.id}`];
  if (b.agency) parts.push(b.agency);
  parts.push(t("pages_read").replace("{d}", String(b.pages_done)).replace("{n}", String(b.pages_total)));
  if (ACTIVE_BATCH.has(b.status)) parts.push(word("status_names", b.status));
  parts.push(t("to_review").replace("{n}", String(b.review_pending)));
  return parts.join(" · ");
}

function batchRow(b) {
  return el("tr", { "data-batch": String(b.id) },
    el("td", {}, `#${b.id}${b.agency ? ` · ${b.agency}` : ""}`),
    el("td", { class: `st-${b.status}` }, word("status_names", b.status)),
    el("td", { class: "num" }, `${b.pages_done}/${b.pages_total}`),
    el("td", { class: "num" }, String(b.pages_failed || 0)),
    el("td", { class: "num" }, String(b.review_pending)));
}

function showBatches() {
  const sel = $("batch-select");
  const keep = sel.value;
  const first = sel.firstElementChild;
  const list = [...state.batches.values()].filter((b) => String(b.round_id) === $("round-select").value);
  sel.replaceChildren(first, ...list.map((b) => el("option", { value: String(b.id) }, batchLabel(b))));
  if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  const rows = list.map(batchRow);
  if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 5, class: "muted" }, t("no_batches"))));
  $("batches").tBodies[0].replaceChildren(...rows);
}

async function loadBatches() {
  const rid = $("round-select").value;
  state.batches = new Map();
  if (rid) {
    const batches = await api("GET", `/api/batches?round=${encodeURIComponent(rid)}`);
    for (const b of batches) state.batches.set(b.id, b);
  }
  showBatches();
}

// While a batch is queued or being read, ask for it every 2 s: its label counts the pages as they are read.
let batchTimer = null;
function stopBatchWatch() { clearTimeout(batchTimer); batchTimer = null; }

function watchBatches() {
  stopBatchWatch();
  const active = [...state.batches.values()].filter((b) => ACTIVE_BATCH.has(b.status));
  if (!active.length) return;
  batchTimer = setTimeout(async () => {
    for (const b of active) {
      try { state.batches.set(b.id, await api("GET", `/api/batches/${b.id}`)); } catch (e) { /* try again next time */ }
    }
    if (!$("choose-view").hidden) showBatches();
    if (!$("queue-view").hidden) showBatchLive();
    watchBatches();
  }, 2000);
}

function showBatchLive() {
  const mine = [...state.batches.values()].filter((b) => !state.batch || String(b.id) === state.batch);
  const active = mine.filter((b) => ACTIVE_BATCH.has(b.status));
  $("batch-live").textContent = active.map((b) => `${t("batch_word")} #${b.id}: ${t("pages_read").replace("{d}", String(b.pages_done))
    .replace("{n}", String(b.pages_total))} (${word("status_names", b.status)})`).join(" · ");
}

async function start() {
  if (!REVIEW_ROLES.includes(state.me.role)) { $("choose-error").textContent = roleLine(state.me.role); return; }
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
  $("item-flash").textContent = "";
  showView("queue");
  showBatchLive();
  watchBatches();
  $("item").hidden = true;
  try {
    if (!state.templates.length) state.templates = await api("GET", "/api/templates");
    await advance();
  } catch (e) {
    $("queue-error").textContent = apiErrorText(e);
  }
}

async function afterLogin() {
  $("who").textContent = `${state.me.name} (${word("role_names", state.me.role)})`;
  renderNav(state.me);
  // signed in from another office page (nav.js sends a 401 here with ?next=): go back to it
  const next = new URLSearchParams(location.search).get("next");
  if (next && next !== "./" && navAllowed(state.me.role, next)) { location.href = next; return; }
  await loadChooser();
}

// ---------------------------------------------------------------- login (429: wait as the server says)

let loginWait = null;
function loginRefused(e) {
  if (e.status === 429) {
    let left = e.retryAfter || 30;
    const tick = () => {
      $("login-error").textContent = t("err_429").replace("{s}", String(left));
      $("login-submit").disabled = left > 0;
      if (left-- > 0) loginWait = setTimeout(tick, 1000); else $("login-error").textContent = "";
    };
    clearTimeout(loginWait);
    tick();
    return;
  }
  $("login-error").textContent = e.status === 401 || e.status === 403 ? t("bad_login") : apiErrorText(e);
}

async function init() {
  applyLang();
  $("lang").addEventListener("click", () => {
    toggleLang();
    // the manual form keeps what was keyed in: only its static words change (the form's own text is the questionnaire's)
    if (state.current && !$("queue-view").hidden && !state.manual) render(state.current);
    if (!$("choose-view").hidden && state.me) { $("role-note").textContent = roleLine(state.me.role); showBatches(); }
    if (state.me) { $("who").textContent = `${state.me.name} (${word("role_names", state.me.role)})`; renderNav(state.me); }
    if (!$("done-view").hidden) checkDone();
    if (state.round) refreshProgress();
    if ($("lang").blur) $("lang").blur();
  });
  $("logout").addEventListener("click", async () => { await api("POST", "/api/logout").catch(() => {}); location.href = "./"; });
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try {
      state.me = apiSession(await api("POST", "/api/login", { name: $("login-name").value.trim(), token: $("login-token").value.trim() }));
      $("login-token").value = "";
      await afterLogin();
    } catch (e) { loginRefused(e); }
  });
  $("round-select").addEventListener("change", () => loadBatches().then(watchBatches).catch((e) => { $("choose-error").textContent = apiErrorText(e); }));
  $("start").addEventListener("click", start);
  $("back-choose").addEventListener("click", () => { history.replaceState(null, "", "./"); loadChooser(); });
  $("recheck").addEventListener("click", checkDone);
  $("accept").addEventListener("click", acceptOrSave);
  $("blank").addEventListener("click", blank);
  $("invalid").addEventListener("click", invalid);
  $("undo").addEventListener("click", undo);
  $("prev").addEventListener("click", back);
  $("next").addEventListener("click", forward);
  $("pf-place").addEventListener("click", placePage);
  $("pf-manual").addEventListener("click", () => { if (state.current) openManual(state.current); });
  $("pf-reject").addEventListener("click", notQuestionnaire);
  $("pf-retry").addEventListener("click", retryPage);
  $("mf-reject").addEventListener("click", notQuestionnaire);
  $("pf-template").addEventListener("change", updatePageMax);
  $("text-copy").addEventListener("click", copySuggestion);
  for (const b of document.querySelectorAll("#pf-dup button")) b.addEventListener("click", () => decideDuplicate(b.dataset.keep));
  setupManual();
  $("help-open").addEventListener("click", toggleHelp);
  $("help-close").addEventListener("click", toggleHelp);
  // mouse clicks leave focus on buttons; keep the keyboard working on the queue
  $("item-actions").addEventListener("click", () => { if (document.activeElement) document.activeElement.blur(); });
  document.addEventListener("keydown", onKey);
  try {
    state.me = apiSession(await api("GET", "/api/me"));
  } catch (e) { showLogin(); if (e.status !== 401) $("login-error").textContent = apiErrorText(e); return; }
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
