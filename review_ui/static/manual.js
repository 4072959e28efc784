// Manual entry of a page no one can place (markers not found): choose the form, page and serial,
// key in every field of that form page from its image (zoomable) beside the form. Part of the
// review page: uses its state, el(), decide() and the API client. Keys: a digit picks an option and
// moves to the next question, 0 = blank, Enter = next question, Ctrl+Enter saves, Esc leaves the form.
"use strict";

const geometryCache = new Map();
let manualZoom = null;

async function geometry(tid, version) {
  const key = `${tid}/${version}`;
  if (!geometryCache.has(key)) {
    const p = api("GET", `/api/templates/${encodeURIComponent(tid)}/${encodeURIComponent(version)}/geometry`);
    geometryCache.set(key, p);
    p.catch(() => geometryCache.delete(key));
  }
  return geometryCache.get(key);
}

function openManual(item) {
  state.manual = true;
  $("manual").hidden = false;
  $("crop-wrap").hidden = true;
  $("queue-cols").classList.add("wide");
  $("item-pageform").hidden = true;  // the manual form has its own "not a questionnaire" button
  const img = $("mi-img");
  const src = item.page_image_url || item.image_url;
  if (img.dataset.src !== src) { img.dataset.src = src || ""; if (src) img.src = src; else img.removeAttribute("src"); }
  img.alt = t("manual_image");
  if (manualZoom) requestAnimationFrame(manualZoom.fit);
  const sel = $("mf-template");
  sel.replaceChildren(...state.templates.map((tp) => el("option", { value: tp.id }, `${tp.id} – ${tp.title}`)));
  sel.value = (state.templates.some((x) => x.id === item.template) && item.template) || state.roundTemplate
    || (state.templates[0] && state.templates[0].id) || "";
  fillManualPages(item.page || 1);
  $("mf-sheet").value = item.sheet || "";
  buildManualFields();
  // the queue's keys (N, J, K) keep working until the reviewer starts the entry: Enter (or a click) goes into the form
}

function fillManualPages(want) {
  const tp = state.templates.find((x) => x.id === $("mf-template").value);
  const n = tp ? tp.pages : 1;
  const sel = $("mf-page");
  sel.replaceChildren(...Array.from({ length: n }, (_, i) => el("option", { value: String(i + 1) }, String(i + 1))));
  sel.value = String(Math.min(Math.max(1, Number(want) || 1), n));
}

async function buildManualFields() {
  const box = $("manual-fields");
  const tp = state.templates.find((x) => x.id === $("mf-template").value);
  const pno = Number($("mf-page").value);
  box.replaceChildren(el("p", { class: "muted" }, t("loading")));
  box.dataset.ready = "";
  if (!tp) return;
  let geo;
  try { geo = await geometry(tp.id, tp.version); } catch (e) {
    box.replaceChildren(el("p", { class: "error" }, apiErrorText(e)));
    return;
  }
  if ($("mf-template").value !== tp.id || Number($("mf-page").value) !== pno) return;  // changed meanwhile
  const page = (geo.pages || []).find((p) => p.page === pno);
  const fields = page ? page.fields : [];
  box.replaceChildren(...fields.map(manualField));
  box.dataset.ready = `${tp.id}/${pno}`;
}

function manualField(f) {
  const fs = el("fieldset", { class: "mf", "data-field": f.id, "data-kind": f.kind });
  fs.append(el("legend", {}, el("span", { class: "mf-id" }, f.id), " ", f.text || ""));
  const name = `mf-${f.id}`;
  if (f.kind === "single" || f.kind === "multiple") {
    const type = f.kind === "single" ? "radio" : "checkbox";
    if (f.kind === "single") {
      fs.append(el("label", { class: "mf-opt blank" }, el("input", { type, name, value: "", checked: true }), " ",
        el("kbd", {}, "0"), " ", t("none")));
    }
    f.options.forEach((o, i) => {
      fs.append(el("label", { class: "mf-opt" }, el("input", { type, name, value: String(o.value) }), " ",
        el("kbd", {}, String(i + 1)), " ", o.label));
    });
  } else if (f.kind === "code") {
    const n = f.digits || 1;
    fs.append(el("label", { class: "mf-line" }, `${t("code_box")} (${n} ${t("code_hint")}) `,
      el("input", { type: "text", name, inputMode: "numeric", maxLength: n, pattern: `[0-9]{${n}}`, autocomplete: "off",
        className: "mf-code" })));
  } else {
    fs.append(el("label", { class: "mf-line" }, `${t("text_box")} `,
      el("input", { type: "text", name, autocomplete: "off", spellcheck: false, className: "mf-text", maxLength: 4000 })));
  }
  return fs;
}

// The manual answers: every field of the form page; null = blank. Throws with the field's name on a bad code.
function manualValues() {
  const out = {};
  for (const fs of $("manual-fields").querySelectorAll("fieldset.mf")) {
    const fid = fs.dataset.field;
    const kind = fs.dataset.kind;
    if (kind === "single") {
      const c = fs.querySelector("input:checked");
      out[fid] = c && c.value !== "" ? Number(c.value) : null;
    } else if (kind === "multiple") {
      const v = [...fs.querySelectorAll("input:checked")].map((x) => Number(x.value)).sort((a, b) => a - b);
      out[fid] = v.length ? v : null;
    } else {
      const input = fs.querySelector("input");
      const v = input.value.trim();
      if (kind === "code" && v && !new RegExp(`^[0-9]{${input.maxLength}}$`).test(v)) {
        input.focus();
        throw new Error(t("manual_bad_code").replace("{f}", fid).replace("{n}", String(input.maxLength)));
      }
      out[fid] = v || null;
    }
  }
  return out;
}

async function saveManual() {
  const item = state.current;
  if (!item || !state.manual) return;
  $("item-error").textContent = "";
  const tid = $("mf-template").value;
  const pno = Number($("mf-page").value);
  const sheet = $("mf-sheet").value.trim();
  if (!/^[0-9]{1,12}$/.test(sheet)) { $("item-error").textContent = t("manual_bad_sheet"); $("mf-sheet").focus(); return; }
  if ($("manual-fields").dataset.ready !== `${tid}/${pno}`) { $("item-error").textContent = t("loading"); return; }
  let manual;
  try { manual = manualValues(); } catch (e) { $("item-error").textContent = e.message; return; }
  const n = Object.values(manual).filter((v) => v !== null).length;
  await decide({ template: tid, page: pno, sheet, manual }, {
    done: (out) => t("manual_done").replace("{n}", String(n)).replace("{m}", String(typeof out.fields_entered === "number" ? out.fields_entered : Object.keys(manual).length))
      .replace("{p}", String(item.page_id)),
  });
}

function onManualKey(ev) {
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); ev.stopPropagation(); saveManual(); return; }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const target = ev.target;
  if (ev.key === "Escape") { target.blur(); ev.preventDefault(); ev.stopPropagation(); return; }
  const fs = target.closest && target.closest("fieldset.mf");
  if (!fs) {
    if (ev.key === "Enter") { ev.preventDefault(); ev.stopPropagation(); focusField($("manual-fields").querySelector("fieldset.mf")); }
    else ev.stopPropagation();
    return;
  }
  ev.stopPropagation();  // typing in the manual form never triggers the queue's keys
  const kind = fs.dataset.kind;
  if ((kind === "single" || kind === "multiple") && /^[0-9]$/.test(ev.key)) {
    ev.preventDefault();
    const inputs = [...fs.querySelectorAll("input")];
    const d = Number(ev.key);
    if (kind === "single") {
      const inp = inputs[d];  // inputs[0] is "blank"
      if (!inp) return;
      inp.checked = true;
      focusField(nextField(fs));
    } else if (d >= 1 && inputs[d - 1]) {
      inputs[d - 1].checked = !inputs[d - 1].checked;
    } else if (d === 0) {
      for (const i of inputs) i.checked = false;
    }
    return;
  }
  if (ev.key === "Enter") { ev.preventDefault(); focusField(nextField(fs)); }
}

function nextField(fs) {
  let n = fs.nextElementSibling;
  while (n && !(n.matches && n.matches("fieldset.mf"))) n = n.nextElementSibling;
  return n;
}

function focusField(fs) {
  if (!fs) { $("mf-save").focus(); return; }
  const target = fs.querySelector("input:checked") || fs.querySelector("input");
  if (target) { target.focus(); fs.scrollIntoView({ block: "nearest" }); }
}


function setupManual() {
  manualZoom = makeZoomable($("mi-wrap"), $("mi-stage"), $("mi-img"), (z) => { $("mi-level").textContent = `${Math.round(z * 100)}%`; });
  $("mi-in").addEventListener("click", manualZoom.zoomIn);
  $("mi-out").addEventListener("click", manualZoom.zoomOut);
  $("mi-fit").addEventListener("click", manualZoom.fit);
  $("mi-wrap").addEventListener("keydown", (ev) => {
    if (ev.key === "+" || ev.key === "=") { manualZoom.zoomIn(); ev.preventDefault(); ev.stopPropagation(); }
    else if (ev.key === "-") { manualZoom.zoomOut(); ev.preventDefault(); ev.stopPropagation(); }
  });
  $("mf-template").addEventListener("change", () => { fillManualPages(1); buildManualFields(); });
  $("mf-page").addEventListener("change", buildManualFields);
  $("manual-form").addEventListener("submit", (ev) => { ev.preventDefault(); saveManual(); });
  $("manual-form").addEventListener("keydown", onManualKey);
}
