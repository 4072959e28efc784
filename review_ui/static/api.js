// The one API client every page uses: JSON in and out, the session's CSRF token on every write,
// 401 back to the login, errors as values a page can show in the reader's language (apiErrorText).
// Loaded after i18n.js (t, reasonText) and before the page's own script.
"use strict";

const API = {
  csrf: null,              // from POST /api/login or GET /api/me (present when the session is a cookie)
  onUnauthorized: null,    // set by a page: what a 401 does (the review page shows its login form)
};

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// Remember the session's CSRF token from a login or /api/me answer.
function apiSession(me) {
  if (me && typeof me.csrf === "string" && me.csrf) API.csrf = me.csrf;
  return me;
}

class ApiError extends Error {
  constructor(status, data, retryAfter) {
    super(typeof (data && data.detail) === "string" ? data.detail : `HTTP ${status}`);
    this.status = status;          // 0: the server could not be reached
    this.data = data || {};
    this.retryAfter = retryAfter;  // seconds, from a 429's Retry-After
  }
}

async function apiFetch(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  if (WRITE_METHODS.has(method) && API.csrf) opts.headers["X-CSRF-Token"] = API.csrf;
  try { return await fetch(path, opts); } catch (err) { throw new ApiError(0, { detail: "" }); }
}

// api("GET", "/api/x") → parsed JSON (null for 204); throws ApiError otherwise.
async function api(method, path, body) {
  let r = await apiFetch(method, path, body);
  if (r.status === 403 && WRITE_METHODS.has(method) && path !== "/api/login") {
    // a stale CSRF token (the session was renewed in another tab): fetch the current one once and retry
    const d = await r.clone().json().catch(() => null);
    if (d && typeof d.detail === "string" && /csrf/i.test(d.detail)) {
      const me = await apiFetch("GET", "/api/me");
      if (me.ok) { apiSession(await me.json().catch(() => null)); r = await apiFetch(method, path, body); }
    }
  }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    const ra = Number(r.headers.get("Retry-After"));
    const e = new ApiError(r.status, data, Number.isFinite(ra) && ra > 0 ? Math.ceil(ra) : null);
    if (r.status === 401 && path !== "/api/login" && API.onUnauthorized) API.onUnauthorized(e);
    throw e;
  }
  return data;
}

// The server's own words for a detail, in the reader's language where we know them.
function apiDetailText(detail) {
  if (typeof detail !== "string" || !detail) return "";
  // many server messages carry their Vietnamese in brackets at the end: "wrong name or token (sai tên …)"
  const m = /^([\s\S]*?)\s*\(([^()]*[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ][^()]*)\)$/i.exec(detail);
  if (m) return LANG === "vi" ? m[2] : m[1];
  return reasonText(detail);
}

// FastAPI's validation errors: [{loc: ["body", "page"], msg}] → "page: msg"
function apiValidationText(list) {
  return list.slice(0, 3).map((x) => {
    const loc = Array.isArray(x.loc) ? x.loc.filter((p) => p !== "body" && p !== "query" && p !== "path").join(".") : "";
    return `${loc ? loc + ": " : ""}${String(x.msg || "").slice(0, 120)}`;
  }).join("; ");
}

// A whole error as one line for the reader: what kind of failure (in their language), then the server's detail.
function apiErrorText(e) {
  if (!(e instanceof ApiError)) return String(e && e.message ? e.message : e);
  const s = e.status;
  if (s === 0) return t("network");
  if (s === 429) return t("err_429").replace("{s}", String(e.retryAfter || "?"));
  const lead = { 400: "err_400", 401: "err_401", 403: "err_403", 404: "err_404", 409: "err_409", 413: "err_413", 422: "err_422" }[s]
    || (s >= 500 ? "err_500" : null);
  const d = e.data ? e.data.detail : null;
  const detail = Array.isArray(d) ? apiValidationText(d) : apiDetailText(d);
  const head = lead ? t(lead) : `HTTP ${s}`;
  return detail && detail !== head ? `${head}: ${detail}` : head;
}
