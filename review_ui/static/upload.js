// The operator's upload page: round and agency, many files (or a folder) checked for type and size
// before sending (against the limits the service publishes, GET /api/limits), sent a few at a time (one
// file per POST /api/batches), a progress bar per file and overall, a dropped connection retried with
// backoff (the server knows a file by its hash, so a re-send never counts twice), then the round's
// batches polled every 2 s. When the server stays away (stopped, restarted) the page stops sending,
// keeps every file the server has not acknowledged (201) and sends them again on "Gửi tiếp".
"use strict";

const UP = {
  exts: ["pdf", "tif", "tiff", "jpg", "jpeg", "png"],  // replaced by GET /api/limits (accepted_types)
  maxFileMb: 300,       // replaced by GET /api/limits (max_file_mb)
  parallel: 3,
  tries: 4,             // attempts per file after a dropped connection or a server error
  backoffMs: 1000,      // 1 s, 2 s, 4 s, …
  paused: false,        // the server could not be reached after every try: wait for "Gửi tiếp"
  items: [],            // {file, name, state: ready|bad|waiting|sending|retry|sent|failed, loaded, error, batch, tries, row}
  mine: new Set(),      // batch ids sent from this page
  poll: null,
};
const $u = (id) => document.getElementById(id);

function fmtSize(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.ceil(n / 1024)} KB`;
  return `${n} B`;
}

// Type and size before anything is sent: the reason in the reader's language, or "" when the file is fine.
function checkFile(f) {
  const ext = (f.name.split(".").pop() || "").toLowerCase();
  if (!f.name.includes(".") || !UP.exts.includes(ext)) return t("up_bad_type").replace("{e}", UP.exts.join(", "));
  if (f.size === 0) return t("up_empty");
  if (f.size > UP.maxFileMb * 1024 * 1024) return t("up_too_big").replace("{m}", String(UP.maxFileMb));
  return "";
}

function addFiles(list) {
  for (const f of list) {
    const name = f.webkitRelativePath || f.name;
    if (UP.items.some((x) => x.name === name && x.file.size === f.size && ["ready", "bad", "waiting", "sending", "retry"].includes(x.state))) continue;
    const bad = checkFile(f);
    UP.items.push({ file: f, name, state: bad ? "bad" : "ready", loaded: 0, error: bad, batch: null, tries: 0, row: null });
  }
  drawFiles();
}

function stateText(it) {
  switch (it.state) {
    case "bad": return t("up_st_bad") + ": " + it.error;
    case "ready": return t("up_st_ready");
    case "waiting": return t("up_st_waiting");
    case "sending": return t("up_st_sending");
    case "retry": return t("up_st_retry").replace("{n}", String(it.tries)).replace("{m}", String(UP.tries));
    case "sent": return t("up_st_sent").replace("{b}", String(it.batch));
    case "failed": return t("up_st_failed") + ": " + it.error;
    default: return it.state;
  }
}

function drawRow(it) {
  if (!it.row) {
    it.bar = h("progress", { max: String(it.file.size || 1), value: "0", "aria-label": it.name });
    it.cell = h("td", {});
    it.retryBtn = h("button", { type: "button", hidden: true, onclick: () => { it.state = "waiting"; it.tries = 0; it.error = ""; it.unacked = false; UP.paused = false; drawRow(it); pump(); } }, t("up_resend"));
    it.row = h("tr", {}, h("td", { class: "fname" }, it.name), h("td", {}, fmtSize(it.file.size)), h("td", {}, it.bar), h("td", {}, it.cell, " ", it.retryBtn));
  }
  it.bar.value = it.state === "sent" ? it.file.size || 1 : it.loaded;
  it.cell.textContent = stateText(it);
  it.cell.className = `st-${it.state}`;
  it.retryBtn.hidden = it.state !== "failed";
  it.retryBtn.textContent = t("up_resend");
  it.retryBtn.setAttribute("aria-label", `${t("up_resend")}: ${it.name}`);
}

function drawFiles() {
  const body = $u("up-list").tBodies[0];
  for (const it of UP.items) { drawRow(it); if (it.row.parentNode !== body) body.append(it.row); }
  drawSummary();
}

function drawSummary() {
  const ok = UP.items.filter((x) => x.state !== "bad");
  const total = ok.reduce((a, x) => a + x.file.size, 0);
  const done = ok.reduce((a, x) => a + (x.state === "sent" ? x.file.size : x.loaded), 0);
  $u("up-overall").max = total || 1;
  $u("up-overall").setAttribute("aria-label", t("up_overall"));
  $u("up-overall").value = done;
  const n = (s) => UP.items.filter((x) => x.state === s).length;
  const ready = n("ready");
  $u("up-send").disabled = ready === 0;
  $u("up-send").textContent = t("up_send").replace("{n}", String(ready));
  const left = UP.items.filter((x) => (x.state === "failed" && x.unacked) || (UP.paused && x.state === "waiting")).length;
  $u("up-resume").hidden = !(UP.paused && left);
  $u("up-resume").textContent = t("up_resume").replace("{n}", String(left));
  $u("up-lost").textContent = UP.paused && left ? t("up_lost").replace("{n}", String(left)) : "";
  $u("up-summary").textContent = UP.items.length ? t("up_summary")
    .replace("{sent}", String(n("sent"))).replace("{all}", String(ok.length)).replace("{bad}", String(n("bad")))
    .replace("{failed}", String(n("failed"))).replace("{size}", fmtSize(total)) : "";
}

// One file, one request; resolves {status, data} (status 0: the connection dropped).
function sendOne(it) {
  return new Promise((resolve) => {
    const fd = new FormData();
    fd.append("round", $u("up-round").value);
    if ($u("up-agency").value) fd.append("agency", $u("up-agency").value);
    fd.append("files", it.file, it.name.split("/").pop());
    const x = new XMLHttpRequest();
    x.open("POST", "/api/batches");
    x.withCredentials = true;
    x.setRequestHeader("Accept", "application/json");
    if (API.csrf) x.setRequestHeader("X-CSRF-Token", API.csrf);
    x.upload.onprogress = (ev) => { if (ev.lengthComputable) { it.loaded = Math.min(it.file.size, ev.loaded * it.file.size / (ev.total || 1)); drawRow(it); drawSummary(); } };
    const done = () => {
      let data = null;
      try { data = JSON.parse(x.responseText); } catch (e) { /* not JSON */ }
      resolve({ status: x.status, data, retryAfter: Number(x.getResponseHeader("Retry-After")) || null });
    };
    x.onload = done;
    x.onerror = () => resolve({ status: 0, data: null });
    x.ontimeout = () => resolve({ status: 0, data: null });
    x.send(fd);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function upload(it) {
  it.state = "sending"; it.loaded = 0; drawRow(it); drawSummary();
  for (;;) {
    it.tries += 1;
    const r = await sendOne(it);
    if (r.status === 201 && r.data) {
      it.state = "sent"; it.batch = r.data.id; UP.mine.add(r.data.id); drawRow(it); drawSummary(); watch(); return;
    }
    if (r.status === 401) { API.onUnauthorized && API.onUnauthorized(); return; }
    const again = r.status === 0 || r.status >= 500 || r.status === 429;
    if (!again || it.tries >= UP.tries) {
      it.state = "failed";
      it.error = apiErrorText(new ApiError(r.status, r.data, r.retryAfter));
      it.unacked = again;   // never acknowledged by the server: "Gửi tiếp" sends it again
      if (again) UP.paused = true;  // the server is away: stop taking new files until the operator resumes
      drawRow(it); drawSummary(); return;
    }
    it.state = "retry"; it.loaded = 0; drawRow(it); drawSummary();
    await sleep(r.retryAfter ? r.retryAfter * 1000 : UP.backoffMs * 2 ** (it.tries - 1));
    it.state = "sending"; drawRow(it);
  }
}

let running = 0;
function pump() {
  while (running < UP.parallel && !UP.paused) {
    const it = UP.items.find((x) => x.state === "waiting");
    if (!it) break;
    running += 1;
    upload(it).finally(() => { running -= 1; pump(); });
  }
  drawSummary();
}

// Every file the server has not acknowledged (waiting, or failed on a lost connection) goes again.
function resume() {
  UP.paused = false;
  $u("up-error").textContent = "";
  for (const it of UP.items) if (it.state === "failed" && it.unacked) { it.state = "waiting"; it.tries = 0; it.error = ""; it.unacked = false; drawRow(it); }
  pump();
}

function startSending() {
  $u("up-error").textContent = "";
  if (!$u("up-round").value) { $u("up-error").textContent = t("up_no_round"); return; }
  for (const it of UP.items) if (it.state === "ready") { it.state = "waiting"; drawRow(it); }
  resume();
}

// ------------------------------------------------------------------ the round's batches, live

function batchState(b) { return word("up_batch_states", b.status); }

function problemsCell(b) {
  const ul = h("ul", { class: "problems" });
  const dups = new Set((b.files || []).filter((f) => f.status === "duplicate").map((f) => f.name));
  const where = (x) => `${x.file}${x.page ? ` · ${t("pageno").toLowerCase()} ${x.page}` : ""}`;
  for (const name of dups) ul.append(h("li", { class: "warn" }, `${name}: ${t("up_dup")}`));
  for (const e of b.errors || []) if (!(dups.has(e.file) && !e.page)) ul.append(h("li", { class: "err" }, `${where(e)}: ${apiDetailText(e.error)}`));
  for (const w of b.warnings || []) ul.append(h("li", { class: "warn" }, `${where(w)}: ${apiDetailText(w.warning)}`));
  return h("td", {}, ul.children.length ? ul : "");
}

const detail = new Map();   // batch id → its summary (files, errors, warnings) from GET /api/batches?round=
async function refreshBatches() {
  const round = $u("up-round").value;
  if (!round) return;
  let list;
  try { list = await api("GET", `/api/batches?round=${encodeURIComponent(round)}`); } catch (e) { $u("up-error").textContent = apiErrorText(e); UP.pollErr = true; return; }
  if (UP.pollErr) { $u("up-error").textContent = ""; UP.pollErr = false; }  // the server is back
  list.sort((a, b) => b.id - a.id);
  for (const b of list) detail.set(b.id, b);  // the list gives each batch as GET /api/batches/{id} does
  const body = $u("up-batches").tBodies[0];
  body.replaceChildren(...list.map((b0) => {
    const b = detail.get(b0.id) || b0;
    const files = (b.files || []).map((f) => f.name).join(", ");
    return h("tr", { class: UP.mine.has(b.id) ? "mine" : "", "data-batch": String(b.id) },
      h("td", {}, `#${b.id}`), h("td", { class: "fname" }, files), h("td", { class: `st-${b.status}` }, batchState(b)),
      h("td", {}, `${b.pages_done}/${b.pages_total}`), h("td", {}, String(b.pages_failed)), h("td", {}, String(b.pages_blank ?? 0)),
      h("td", {}, String(b.review_pending)), problemsCell(b));
  }));
  if (!list.length) body.append(h("tr", {}, h("td", { colspan: "8", class: "muted" }, t("no_batches"))));
}

// Every 2 s, or less often when the round's list takes long to answer (a round of a thousand batches):
// the poll takes at most a third of the time, a tenth while files are being sent (the upload goes first).
function watch() {
  if (UP.poll) return;
  const tick = async () => {
    const t0 = performance.now();
    await refreshBatches();
    UP.poll = setTimeout(tick, Math.max(2000, (running ? 10 : 3) * (performance.now() - t0)));
  };
  tick();
}

// ------------------------------------------------------------------ start

officePage(["admin", "operator"], async (me, onLang) => {
  const lim = await api("GET", "/api/limits").catch(() => null);
  if (lim && Array.isArray(lim.accepted_types) && lim.accepted_types.length) UP.exts = lim.accepted_types.map((x) => String(x).toLowerCase());
  if (lim && lim.max_file_mb > 0) UP.maxFileMb = lim.max_file_mb;
  $u("up-files").setAttribute("accept", UP.exts.map((x) => "." + x).join(","));
  $u("up-limits").textContent = t("up_limits").replace("{e}", UP.exts.join(", ")).replace("{m}", String(UP.maxFileMb));
  const [rounds, agencies] = await Promise.all([api("GET", "/api/rounds"), api("GET", "/api/agencies?active=true").catch(() => [])]);
  const rs = $u("up-round");
  rs.replaceChildren(...rounds.map((r) => h("option", { value: String(r.id) }, `${r.name}${r.state === "closed" ? ` (${t("closed_word")})` : ""}`)));
  if (!rounds.length) $u("up-error").textContent = t("no_rounds");
  for (const a of agencies) $u("up-agency").append(h("option", { value: a.code }, `${a.code} · ${a.name || ""}`));
  rs.addEventListener("change", () => { detail.clear(); refreshBatches(); });
  $u("up-files").addEventListener("change", (ev) => { addFiles(ev.target.files); ev.target.value = ""; });
  $u("up-folder").addEventListener("change", (ev) => { addFiles(ev.target.files); ev.target.value = ""; });
  const drop = $u("drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (ev) => {
    ev.preventDefault(); drop.classList.remove("over");
    const files = [];
    const walk = async (entry, prefix) => {
      if (entry.isFile) {
        await new Promise((res) => entry.file((f) => { try { Object.defineProperty(f, "webkitRelativePath", { value: prefix + f.name }); } catch (e) { /* read-only */ } files.push(f); res(); }, res));
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {
          const batch = await new Promise((res) => reader.readEntries(res, () => res([])));
          if (!batch.length) break;
          for (const e of batch) await walk(e, prefix + entry.name + "/");
        }
      }
    };
    const entries = [...(ev.dataTransfer.items || [])].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    if (entries.length) { for (const e of entries) await walk(e, ""); } else files.push(...ev.dataTransfer.files);
    addFiles(files);
  });
  $u("up-send").addEventListener("click", startSending);
  $u("up-resume").addEventListener("click", resume);
  // the list lives in this page only: leaving it with files the server has not acknowledged asks first
  window.addEventListener("beforeunload", (ev) => {
    if (UP.items.some((x) => ["waiting", "sending", "retry"].includes(x.state) || (x.state === "failed" && x.unacked))) { ev.preventDefault(); ev.returnValue = ""; }
  });
  $u("up-clear").addEventListener("click", () => {
    UP.items = UP.items.filter((x) => ["waiting", "sending", "retry"].includes(x.state) || (x.state === "failed" && x.unacked));
    $u("up-list").tBodies[0].replaceChildren(...UP.items.map((x) => x.row));
    drawSummary();
  });
  onLang(() => { $u("up-limits").textContent = t("up_limits").replace("{e}", UP.exts.join(", ")).replace("{m}", String(UP.maxFileMb)); drawFiles(); refreshBatches(); });
  drawSummary();
  watch();
});
