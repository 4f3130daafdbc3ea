// Shell: session, hash router, language switch, the always-visible alert counts and the live
// stream (scores and alert changes are re-broadcast as window events "lw:score" / "lw:alert").
import { api, get, openStream, qs, setToken, token } from "./api.js";
import { disposeCharts } from "./charts.js";
import { coalesce, errorBox, fill, h } from "./dom.js";
import { currentLang, initI18n, otherLang, setLang, t } from "./i18n.js";
import * as alerts from "./pages/alerts.js";
import * as kpis from "./pages/kpis.js";
import * as login from "./pages/login.js";
import * as machine from "./pages/machine.js";
import * as models from "./pages/models.js";
import * as overview from "./pages/overview.js";

const ROLES = ["viewer", "operator", "engineer", "admin"];
export const session = { user: null, role: null };
export const hasRole = (min) => ROLES.indexOf(session.role) >= ROLES.indexOf(min);

const ROUTES = [
  [/^#\/overview$/, overview], [/^#\/machine\/([^/]+)\/([^/]+)$/, machine], [/^#\/alerts(?:\/(.+))?$/, alerts],
  [/^#\/kpis$/, kpis], [/^#\/models$/, models], [/^#\/login$/, login],
];
const view = document.getElementById("view");
let cleanup = null;
let stopStream = null;
let countsTimer = null;

async function loadSession() {
  if (!token()) return false;
  try {
    const me = await get("/auth/me");
    session.user = me.name;
    session.role = me.role;
    return true;
  } catch {
    setToken(null);
    return false;
  }
}

function renderShell() {
  const shell = document.getElementById("shell");
  shell.classList.toggle("hidden", !session.role);
  document.querySelectorAll("#nav [data-min-role]").forEach((a) => a.classList.toggle("hidden", !hasRole(a.dataset.minRole)));
  fill(document.getElementById("who"), session.role ? t("who", { user: session.user, role: t(`role.${session.role}`) }) : "");
  const toggle = document.getElementById("lang-toggle");
  toggle.textContent = t("lang.switch");
  toggle.lang = otherLang();
  document.title = t("app.title");
}

/** Shelved and suppressed counts are always visible (DESIGN.md §7a), beside the open ones. */
export async function refreshCounts() {
  if (!session.role) return;
  const box = document.getElementById("alert-counts");
  try {
    const alertPage = await get(`/alerts${qs({ limit: 1 })}`);
    const n = (s) => alertPage.counts[s] || 0;
    const unack = n("unacknowledged") + n("rtn_unacknowledged");
    fill(box,
      h("a", { href: "#/alerts", id: "count-unack", "data-count": unack }, t("counts.unack", { n: unack })),
      h("a", { href: "#/alerts", id: "count-ack", "data-count": n("acknowledged") }, t("counts.ack", { n: n("acknowledged") })),
      h("a", { href: "#/alerts", id: "count-shelved", "data-count": n("shelved") }, t("counts.shelved", { n: n("shelved") })),
      h("a", { href: "#/alerts", id: "count-suppressed", "data-count": n("suppressed") }, t("counts.suppressed", { n: n("suppressed") })));
  } catch (exc) {
    fill(box, h("span", { id: "count-error" }, exc.message));
  }
}

const countsSoon = coalesce(() => refreshCounts(), 2000); // alert bursts: one count refresh per 2 s

function startLive() {
  if (stopStream) return;
  const conn = document.getElementById("conn");
  stopStream = openStream((type, data) => {
    const kind = type === "message" && data && data.type ? data.type : type;
    const payload = data && data.data !== undefined && data.type ? data.data : data;
    if (kind.startsWith("score")) window.dispatchEvent(new CustomEvent("lw:score", { detail: payload }));
    else if (kind.startsWith("alert")) { window.dispatchEvent(new CustomEvent("lw:alert", { detail: payload })); countsSoon(); }
  }, (status) => { conn.dataset.status = status; fill(conn, t(`conn.${status}`)); });
  countsTimer = setInterval(refreshCounts, 15000);
}

function stopLive() {
  if (stopStream) stopStream();
  stopStream = null;
  clearInterval(countsTimer);
}

async function route() {
  const hash = location.hash || "#/overview";
  if (!session.role && hash !== "#/login") { location.hash = "#/login"; return; }
  if (session.role && hash === "#/login") { location.hash = "#/overview"; return; }
  const found = ROUTES.map(([re, page]) => [hash.match(re), page]).find(([m]) => m);
  if (cleanup) { try { cleanup(); } catch { /* page already gone */ } }
  cleanup = null;
  disposeCharts();
  document.querySelectorAll("#nav a").forEach((a) => a.toggleAttribute("aria-current", hash.startsWith(`#/${a.dataset.route}`)));
  document.querySelectorAll("#nav a[aria-current]").forEach((a) => a.setAttribute("aria-current", "page"));
  renderShell();
  if (!found) { location.hash = "#/overview"; return; }
  const [match, page] = found;
  if (page.minRole && !hasRole(page.minRole)) {
    fill(view, errorBox(t("common.forbidden", { role: t(`role.${session.role}`) })));
    view.dataset.page = "forbidden";
    return;
  }
  view.dataset.page = page.name;
  try {
    cleanup = await page.render(view, match.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p))), { session, hasRole, refreshCounts, onLogin });
  } catch (exc) {
    fill(view, errorBox(exc.message || String(exc)));
  }
}

async function onLogin() {
  await loadSession();
  renderShell();
  refreshCounts();
  startLive();
  location.hash = "#/overview";
}

function logout(remote = true) {
  // End the session on the server too (the token stops working at once); fire and forget.
  if (remote && session.role) api("POST", "/auth/logout", {}).catch(() => {});
  setToken(null);
  session.user = session.role = null;
  stopLive();
  location.hash = "#/login";
  renderShell();
}

async function main() {
  await initI18n();
  document.getElementById("lang-toggle").addEventListener("click", async () => {
    await setLang(otherLang());
    refreshCounts();
    route();
  });
  document.getElementById("logout").addEventListener("click", () => logout());
  window.addEventListener("lw:unauthorized", () => { if (session.role) logout(false); });
  window.addEventListener("hashchange", route);
  if (await loadSession()) { refreshCounts(); startLive(); }
  document.documentElement.lang = currentLang();
  route();
}

main();
