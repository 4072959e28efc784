// The admin page: the last backup (GET /api/backup), agencies (add, edit name/kind/parent/active through
// PATCH /api/agencies/{code}, import with errors per row), accounts (create: the token shown once,
// disable/enable, new token), rounds (create from a template with targets, close/reopen), print runs
// (agency + count → the PDF, fetched with the CSRF header and saved as a blob; the list with the response
// rate as the server computes it), online answers (POST /api/rounds/{id}/imports: a dry run showing the
// column → question mapping, editable, and each refused row with its column, then the import).
"use strict";

const $a = (id) => document.getElementById(id);
const AD = { agencies: [], rounds: [] };
const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1).replace(".", LANG === "vi" ? "," : ".")}%`);
const when = (s) => (s ? new Date(s).toLocaleString(LANG === "vi" ? "vi-VN" : "en-GB") : "–");

function say(id, text, bad) { const m = $a(id); m.textContent = text; m.className = bad ? "error" : "muted"; }

// ------------------------------------------------------------------ agencies
async function loadAgencies() {
  AD.agencies = await api("GET", "/api/agencies");
  $a("ag-table").tBodies[0].replaceChildren(...AD.agencies.map((a) => h("tr", {},
    h("td", {}, a.code), h("td", {}, a.name || ""), h("td", {}, a.kind_label || a.kind || ""), h("td", {}, a.parent || ""),
    h("td", {}, a.active ? t("ad_yes") : t("ad_no")),
    h("td", {}, h("button", { type: "button", "aria-label": `${t("ad_edit")}: ${a.code}`, onclick: () => editAgency(a) }, t("ad_edit")), " ", h("button", { type: "button", "aria-label": `${a.active ? t("ad_disable") : t("ad_enable")}: ${a.code}`,
      onclick: () => api("PATCH", `/api/agencies/${encodeURIComponent(a.code)}`, { active: !a.active }).then(loadAgencies).catch((e) => say("ag-msg", apiErrorText(e), true)) },
    a.active ? t("ad_disable") : t("ad_enable"))))));
  const keep = $a("pr-agency").value;
  $a("pr-agency").replaceChildren(...AD.agencies.filter((a) => a.active).map((a) => h("option", { value: a.code }, `${a.code} · ${a.name || ""}`)));
  if (keep) $a("pr-agency").value = keep;
}

// The edit form, filled from the agency's row; only what changed is sent.
function editAgency(a) {
  AD.editing = a;
  $a("ag-edit-code").textContent = a.code;
  $a("ag-edit-name").value = a.name || "";
  $a("ag-edit-kind").value = a.kind || "khac";
  $a("ag-edit-parent").value = a.parent || "";
  $a("ag-edit-active").checked = !!a.active;
  $a("ag-edit").hidden = false;
  say("ag-msg", "");
  $a("ag-edit-name").focus();
}

async function saveAgency(ev) {
  ev.preventDefault();
  const a = AD.editing;
  if (!a) return;
  const body = {};
  const name = $a("ag-edit-name").value.trim();
  const parent = $a("ag-edit-parent").value.trim();
  if (name !== (a.name || "")) body.name = name;
  if ($a("ag-edit-kind").value !== a.kind) body.kind = $a("ag-edit-kind").value;
  if (parent !== (a.parent || "")) body.parent = parent;  // "": no parent
  if ($a("ag-edit-active").checked !== !!a.active) body.active = $a("ag-edit-active").checked;
  try {
    if (Object.keys(body).length) await api("PATCH", `/api/agencies/${encodeURIComponent(a.code)}`, body);
    say("ag-msg", t("ad_agency_saved").replace("{c}", a.code));
    $a("ag-edit").hidden = true;
    AD.editing = null;
    await loadAgencies();
  } catch (e) { say("ag-msg", apiErrorText(e), true); }
}

async function addAgency(ev) {
  ev.preventDefault();
  const body = { code: $a("ag-code").value.trim(), name: $a("ag-name").value.trim(), kind: $a("ag-kind").value, active: true };
  if ($a("ag-parent").value.trim()) body.parent = $a("ag-parent").value.trim();
  try {
    await api("POST", "/api/agencies", body);
    say("ag-msg", t("ad_agency_added").replace("{c}", body.code));
    $a("ag-add").reset();
    await loadAgencies();
  } catch (e) { say("ag-msg", apiErrorText(e), true); }
}

async function importAgencies(ev) {
  ev.preventDefault();
  $a("ag-errors").replaceChildren();
  const f = $a("ag-file").files[0];
  if (!f) return;
  const fd = new FormData();
  fd.append("file", f);
  let r;
  try {
    r = await fetch("/api/agencies/import", { method: "POST", body: fd, credentials: "same-origin", headers: { Accept: "application/json", "X-CSRF-Token": API.csrf || "" } });
  } catch (e) { say("ag-msg", t("network"), true); return; }
  const data = await r.json().catch(() => null);
  if (r.ok) {
    say("ag-msg", t("ad_import_ok").replace("{r}", data.rows).replace("{c}", data.created).replace("{u}", data.updated));
    await loadAgencies();
    return;
  }
  say("ag-msg", t("ad_import_bad"), true);
  const errs = (data && data.errors) || [];
  $a("ag-errors").replaceChildren(...errs.slice(0, 200).map((x) => h("li", { class: "err" },
    `${t("ad_row")} ${x.row}${x.column ? ` · ${x.column}` : ""}: ${apiDetailText(x.error)}`)));
  if (!errs.length) say("ag-msg", apiErrorText(new ApiError(r.status, data)), true);
}

// ------------------------------------------------------------------ accounts
async function loadUsers() {
  const users = await api("GET", "/api/users");
  $a("us-table").tBodies[0].replaceChildren(...users.map((u) => h("tr", {},
    h("td", {}, u.name), h("td", {}, word("role_names", u.role)), h("td", {}, u.active ? t("ad_active_acc") : t("ad_disabled_acc")),
    h("td", {}, when(u.last_login_at)),
    h("td", {},
      h("button", { type: "button", "aria-label": `${u.active ? t("ad_disable") : t("ad_enable")}: ${u.name}`, onclick: () => patchUser(u.name, { active: !u.active }) }, u.active ? t("ad_disable") : t("ad_enable")),
      " ",
      h("button", { type: "button", "aria-label": `${t("ad_new_token")}: ${u.name}`, onclick: () => patchUser(u.name, { new_token: true }) }, t("ad_new_token"))))));
}

function showToken(name, token) {
  $a("us-token").textContent = token ? t("ad_token_once").replace("{n}", name) + " " + token : "";
}

async function patchUser(name, body) {
  try {
    const r = await api("PATCH", `/api/users/${encodeURIComponent(name)}`, body);
    showToken(name, r && r.token);
    say("us-msg", t("ad_saved"));
    await loadUsers();
  } catch (e) { say("us-msg", apiErrorText(e), true); }
}

async function addUser(ev) {
  ev.preventDefault();
  const name = $a("us-name").value.trim();
  try {
    const r = await api("POST", "/api/users", { name, role: $a("us-role").value });
    showToken(name, r.token);
    say("us-msg", t("ad_user_added").replace("{n}", name));
    $a("us-add").reset();
    await loadUsers();
  } catch (e) { say("us-msg", apiErrorText(e), true); }
}

// ------------------------------------------------------------------ rounds
function parseTargets(s) {
  const out = {};
  for (const part of s.split(/[,;\n]/).map((x) => x.trim()).filter(Boolean)) {
    const m = /^([^=:\s]+)\s*[=:]\s*(\d+)$/.exec(part);
    if (!m) throw new Error(t("ad_bad_targets").replace("{p}", part.slice(0, 40)));
    out[m[1]] = Number(m[2]);
  }
  return Object.keys(out).length ? out : null;
}

// Closing a round publishes its figures: warn first when the engine's measured error rate may be above the
// round's limit (GET /api/quality: the 95% upper bound over the limit), or is not measured yet.
async function closeOrReopen(r, closed) {
  try {
    if (!closed) {
      const q = await api("GET", `/api/quality?round=${r.id}`);
      if (q.over_limit || (q.sampled && !q.checked)) {
        const why = q.over_limit
          ? t("ad_qc_over").replace("{hi}", fmtPct(q.ci95[1])).replace("{lim}", fmtPct(q.limit))
          : t("ad_qc_none").replace("{n}", String(q.sampled));
        if (!window.confirm(`${why}\n\n${t("ad_qc_confirm").replace("{r}", r.name)}`)) { say("rd-msg", why, true); return; }
      }
    }
    await api("PATCH", `/api/rounds/${r.id}`, { state: closed ? "open" : "closed" });
    say("rd-msg", t("ad_saved"));
    await loadRounds();
  } catch (e) { say("rd-msg", apiErrorText(e), true); }
}

function fmtPct(x) {
  return `${(Math.round(x * 100000) / 1000).toLocaleString(LANG === "en" ? "en-US" : "vi-VN")} %`;
}

async function loadRounds() {
  AD.rounds = await api("GET", "/api/rounds");
  $a("rd-table").tBodies[0].replaceChildren(...AD.rounds.map((r) => {
    const closed = r.state === "closed";
    return h("tr", {}, h("td", {}, r.name), h("td", {}, `${r.template} v${r.version ?? ""}`), h("td", {}, r.period || ""),
      h("td", {}, closed ? t("ad_closed") : t("ad_open")),
      h("td", {}, h("button", { type: "button", "aria-label": `${closed ? t("ad_reopen") : t("ad_close")}: ${r.name}`,
        onclick: () => closeOrReopen(r, closed) },
      closed ? t("ad_reopen") : t("ad_close"))));
  }));
  const keep = $a("pr-round").value;
  $a("pr-round").replaceChildren(...AD.rounds.map((r) => h("option", { value: String(r.id) }, r.name)));
  if (keep) $a("pr-round").value = keep;
  const keepOn = $a("on-round").value;
  $a("on-round").replaceChildren(...AD.rounds.filter((r) => r.state !== "closed").map((r) => h("option", { value: String(r.id) }, r.name)));
  if (keepOn && [...$a("on-round").options].some((o) => o.value === keepOn)) $a("on-round").value = keepOn;
  if ($a("on-round").value !== keepOn) onRoundChanged().catch(() => {});
  await loadPrintRuns();
}

async function addRound(ev) {
  ev.preventDefault();
  try {
    const body = { name: $a("rd-name").value.trim(), template: $a("rd-template").value, period: $a("rd-period").value.trim() };
    const targets = parseTargets($a("rd-targets").value);
    if (targets) body.targets = targets;
    await api("POST", "/api/rounds", body);
    say("rd-msg", t("ad_round_added").replace("{n}", body.name));
    $a("rd-add").reset();
    await loadRounds();
  } catch (e) { say("rd-msg", apiErrorText(e), true); }
}

// ------------------------------------------------------------------ print runs
async function loadPrintRuns() {
  const rid = $a("pr-round").value;
  const body = $a("pr-table").tBodies[0];
  if (!rid) { body.replaceChildren(); return; }
  const runs = await api("GET", `/api/rounds/${rid}/print-runs`);
  body.replaceChildren(...runs.map((p) => h("tr", {}, h("td", {}, p.agency), h("td", {}, `${p.first_serial}–${p.last_serial}`),
    h("td", {}, String(p.count)), h("td", {}, String(p.returned)), h("td", {}, pct(p.response_rate)), h("td", {}, when(p.created_at)))));
}

async function printRun(ev) {
  ev.preventDefault();
  const rid = $a("pr-round").value;
  say("pr-msg", t("loading"));
  let r;
  try {
    r = await fetch(`/api/rounds/${rid}/print-runs`, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/pdf", "X-CSRF-Token": API.csrf || "" },
      body: JSON.stringify({ agency: $a("pr-agency").value, count: Number($a("pr-count").value) }) });
  } catch (e) { say("pr-msg", t("network"), true); return; }
  if (!r.ok) { const d = await r.json().catch(() => null); say("pr-msg", apiErrorText(new ApiError(r.status, d)), true); return; }
  const blob = await r.blob();
  const serials = r.headers.get("X-Serials") || "";
  const cd = r.headers.get("Content-Disposition") || "";
  const m = /filename\*=UTF-8''([^;]+)/i.exec(cd) || /filename="([^"]+)"/i.exec(cd);
  const a = h("a", { href: URL.createObjectURL(blob), download: m ? decodeURIComponent(m[1]) : `phieu-${serials || "in"}.pdf` });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  say("pr-msg", t("ad_printed").replace("{s}", serials));
  await loadPrintRuns();
}

// ------------------------------------------------------------------ the last backup
async function loadBackup() {
  const line = $a("bk-line");
  const { last } = await api("GET", "/api/backup");
  if (!last || !last.at) { line.textContent = t("ad_backup_none"); line.className = "backup-line warn"; return; }
  const days = (Date.now() - new Date(last.at).getTime()) / 86400000;
  line.textContent = t("ad_backup_last").replace("{w}", when(last.at)) + (days > 7 ? " " + t("ad_backup_old").replace("{d}", String(Math.floor(days))) : "");
  line.className = days > 7 ? "backup-line warn" : "backup-line";
  if (last.dir) line.title = last.dir;
}

// ------------------------------------------------------------------ online answers
const ON = { columns: [], mapping: null, questions: null, checked: false, saved: {} };

function onRound() { return AD.rounds.find((r) => String(r.id) === $a("on-round").value); }

// The questions a column can go to (from the round's questionnaire geometry), once per template version.
async function onQuestions(r) {
  const key = `${r.template}/${r.version}`;
  if (!ON.questions || ON.questions.key !== key) {
    const g = await api("GET", `/api/templates/${encodeURIComponent(r.template)}/${r.version}/geometry`);
    ON.questions = { key, list: g.pages.flatMap((p) => p.fields).map((f) => ({ id: f.id, text: f.text || "" })) };
  }
  return ON.questions.list;
}

async function onRoundChanged() {
  ON.columns = []; ON.mapping = null; ON.checked = false; ON.saved = {};
  $a("on-map").hidden = true; $a("on-errors").replaceChildren(); $a("on-import").disabled = true; say("on-msg", "");
  const r = onRound();
  if (!r) { $a("on-saved").textContent = ""; return; }
  const m = await api("GET", `/api/templates/${encodeURIComponent(r.template)}/${r.version}/import-mapping`);
  ON.saved = m.mapping || {};
  const n = Object.keys(ON.saved).length;
  $a("on-saved").textContent = n ? t("ad_online_saved").replace("{n}", String(n)).replace("{u}", m.updated_by || "?") : t("ad_online_nosaved");
}

// The mapping as the selects say it: {column: question id | "agency" | "skip"}.
function onMappingFromPage() {
  const out = {};
  for (const sel of $a("on-map").querySelectorAll("select[data-col]")) out[sel.dataset.col] = sel.value;
  return out;
}

async function drawMapping(columns, mapping) {
  const qs = await onQuestions(onRound());
  const body = $a("on-map").tBodies[0];
  body.replaceChildren(...columns.map((c) => {
    const sel = h("select", { "data-col": c, "aria-label": `${t("ad_online_q")}: ${c}`, onchange: () => { ON.checked = false; $a("on-import").disabled = true; } },
      h("option", { value: "skip" }, t("ad_online_skip")), h("option", { value: "agency" }, t("ad_online_agency")),
      ...qs.map((q) => h("option", { value: q.id }, `${q.id} · ${q.text.slice(0, 70)}`)));
    sel.value = mapping[c] || "skip";
    return h("tr", {}, h("td", { class: "fname" }, c), h("td", {}, sel));
  }));
  $a("on-map").hidden = !columns.length;
}

function rowErrors(errs) {
  $a("on-errors").replaceChildren(...(errs || []).slice(0, 300).map((x) => h("li", { class: "err" },
    `${t("ad_row")} ${x.row}${x.column ? ` · ${t("ad_col")} ${x.column}` : ""}: ${reasonText(x.error)}`)));  // row errors carry no bracketed Vietnamese: option labels may end in "(…)"
}

async function onSend(dryRun) {
  const r = onRound();
  const f = $a("on-file").files[0];
  if (!r || !f) { say("on-msg", t("ad_online_pick"), true); return; }
  const fd = new FormData();
  fd.append("file", f);
  if (ON.columns.length) fd.append("mapping", JSON.stringify(onMappingFromPage()));
  fd.append("dry_run", dryRun ? "true" : "false");
  say("on-msg", t("loading"));
  let res;
  try {
    res = await fetch(`/api/rounds/${r.id}/imports`, { method: "POST", body: fd, credentials: "same-origin", headers: { Accept: "application/json", "X-CSRF-Token": API.csrf || "" } });
  } catch (e) { say("on-msg", t("network"), true); return; }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    say("on-msg", apiErrorText(new ApiError(res.status, data)), true);
    if (data && Array.isArray(data.columns) && data.columns.length && !ON.columns.length) {
      ON.columns = data.columns;  // the mapping could not be used: show the columns to map by hand
      const pre = {};
      for (const c of data.columns) if (ON.saved[c]) pre[c] = ON.saved[c];
      await drawMapping(ON.columns, pre);
    }
    $a("on-import").disabled = true;
    return;
  }
  if (!ON.columns.length) { ON.columns = data.columns || Object.keys(data.mapping || {}); await drawMapping(ON.columns, data.mapping || {}); }
  rowErrors(data.errors);
  const msg = (dryRun ? t("ad_online_dry") : t("ad_online_done")).replace("{r}", data.rows).replace("{t}", data.taken).replace("{x}", data.refused);
  say("on-msg", msg, !dryRun ? false : data.refused > 0 && data.taken === 0);
  ON.checked = dryRun && data.taken > 0;
  $a("on-import").disabled = !ON.checked;
  if (!dryRun) { $a("on-import").disabled = true; await onRoundChanged().catch(() => {}); say("on-msg", msg); rowErrors(data.errors); }
}

officePage(["admin"], async (me, onLang) => {
  const templates = await api("GET", "/api/templates");
  $a("rd-template").replaceChildren(...templates.map((x) => h("option", { value: x.id }, `${x.id} v${x.version}${x.title ? ` · ${x.title}` : ""}`)));
  $a("ag-add").addEventListener("submit", addAgency);
  $a("ag-import").addEventListener("submit", importAgencies);
  $a("ag-edit").addEventListener("submit", saveAgency);
  $a("ag-edit-cancel").addEventListener("click", () => { $a("ag-edit").hidden = true; AD.editing = null; });
  $a("on-form").addEventListener("submit", (ev) => { ev.preventDefault(); onSend(true); });
  $a("on-import").addEventListener("click", () => onSend(false));
  $a("on-round").addEventListener("change", () => onRoundChanged().catch((e) => say("on-msg", apiErrorText(e), true)));
  $a("on-file").addEventListener("change", () => { ON.columns = []; ON.checked = false; $a("on-map").hidden = true; $a("on-errors").replaceChildren(); $a("on-import").disabled = true; say("on-msg", ""); });
  $a("us-add").addEventListener("submit", addUser);
  $a("rd-add").addEventListener("submit", addRound);
  $a("pr-add").addEventListener("submit", printRun);
  $a("pr-round").addEventListener("change", () => loadPrintRuns().catch((e) => say("pr-msg", apiErrorText(e), true)));
  const all = () => Promise.all([loadAgencies(), loadUsers(), loadRounds(), loadBackup()]).catch((e) => { $a("page-error").textContent = apiErrorText(e); });
  onLang(all);
  await all();
});
