// Navigation by role, shared by every page (loaded after i18n.js and api.js): each role sees the pages
// it may use and nothing else. Plain links in a <nav>, so Tab / Enter work; the current page is aria-current.
"use strict";

const NAV_PAGES = [
  { href: "admin.html", key: "nav_admin", roles: ["admin"] },
  { href: "designer.html", key: "nav_designer", roles: ["admin"] },
  { href: "upload.html", key: "nav_upload", roles: ["admin", "operator"] },
  { href: "./", key: "nav_review", roles: ["admin", "reviewer"] },
  { href: "grid.html", key: "nav_grid", roles: ["admin", "reviewer"] },
  { href: "check.html", key: "nav_check", roles: ["admin", "reviewer"] },
  { href: "results.html", key: "nav_results", roles: ["admin", "operator", "reviewer", "viewer"] },
];

function navPageName() {
  const last = location.pathname.split("/").pop();
  return !last || last === "index.html" ? "./" : last;
}

// href: a page of NAV_PAGES, with or without a query string (a results view's filters survive the login)
function navAllowed(role, href) {
  const path = String(href).split("?")[0];
  const p = NAV_PAGES.find((x) => x.href === path);
  return !!p && p.roles.includes(role);
}

// Draw (or redraw, after a language switch) the role's links into the page's header.
function renderNav(me) {
  const header = document.querySelector("header");
  if (!header || !me) return;
  let nav = document.getElementById("nav");
  if (!nav) {
    nav = document.createElement("nav");
    nav.id = "nav";
    const h1 = header.querySelector("h1");
    if (h1) h1.after(nav); else header.prepend(nav);
  }
  nav.setAttribute("aria-label", t("nav_label"));
  nav.replaceChildren();
  const here = navPageName();
  for (const p of NAV_PAGES) {
    if (!p.roles.includes(me.role)) continue;
    const a = document.createElement("a");
    a.href = p.href;
    a.textContent = t(p.key);
    if (p.href === here) a.setAttribute("aria-current", "page");
    nav.append(a);
  }
}

// The start of every office page: language, logout, the session (401: to the login page, back here after),
// the navigation, then the page itself if the role may use it.
async function officePage(roles, start) {
  applyLang();
  const langBtn = document.getElementById("lang");
  let me = null;
  const onLang = [];
  if (langBtn) langBtn.addEventListener("click", () => { toggleLang(); renderNav(me); whoLine(me); for (const f of onLang) f(); });
  const out = document.getElementById("logout");
  if (out) out.addEventListener("click", async () => { await api("POST", "/api/logout").catch(() => {}); location.href = "./"; });
  API.onUnauthorized = () => { location.href = "./?next=" + encodeURIComponent(navPageName() + location.search); };
  try {
    me = apiSession(await api("GET", "/api/me"));
  } catch (e) {
    if (e.status !== 401) { const m = document.getElementById("page-error"); if (m) m.textContent = apiErrorText(e); }
    return;
  }
  renderNav(me);
  whoLine(me);
  if (!roles.includes(me.role)) {
    const m = document.getElementById("page-error");
    if (m) m.textContent = t("forbidden");
    for (const s of document.querySelectorAll("main")) s.hidden = true;
    return;
  }
  await start(me, (f) => onLang.push(f));
}

function whoLine(me) {
  const w = document.getElementById("who");
  if (w && me) w.textContent = `${me.name} (${word("role_names", me.role)})`;
}

// small DOM helper for the office pages: el("td", {class: "x"}, "text", child…); text only, never HTML
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
