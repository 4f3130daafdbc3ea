// Alert inbox (ISA-18.2 life cycle): filter, keyboard navigation, and per alert acknowledge,
// assign, shelve (reason + end time), unshelve, resolve with outcome, comment; escalations and
// the audit trail. Viewers see everything but get no action buttons (the API refuses them too).
import { get, post, qs } from "../api.js";
import { coalesce, errorBox, fill, h } from "../dom.js";
import { fmtAgo, fmtDate, fmtPct, label, t } from "../i18n.js";
import { OPEN_STATES, alertState, priorityBadge, stateTag } from "../hmi.js";
import { PRIORITY_ORDER, loadAlerts } from "../plant.js";
import { detailPanel } from "./alert_detail.js";

export const name = "alerts";
const STATES = ["open", "unacknowledged", "acknowledged", "rtn_unacknowledged", "shelved", "suppressed", "out_of_service", "resolved", "all"];
const filters = { state: "open", priority: "", line: "", machine: "" };

function matches(a) {
  const st = alertState(a);
  if (filters.state === "open" && !OPEN_STATES.has(st)) return false;
  if (!["open", "all"].includes(filters.state) && st !== filters.state) return false;
  if (filters.priority && a.priority !== filters.priority) return false;
  if (filters.line && !a.machine_id.startsWith(`${filters.line}/`)) return false;
  if (filters.machine && !a.machine_id.includes(filters.machine)) return false;
  return true;
}

function sortAlerts(list) {
  // Unacknowledged first, then priority, then newest.
  return list.sort((a, b) => (OPEN_STATES.has(alertState(b)) - OPEN_STATES.has(alertState(a)))
    || (alertState(a).includes("unack") ? 0 : 1) - (alertState(b).includes("unack") ? 0 : 1)
    || PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority]
    || String(b.raised_at).localeCompare(String(a.raised_at)));
}

function filterBar(lines, onChange) {
  const sel = (key, options, labelKey) => h("label", {}, t(labelKey), h("select", { id: `filter-${key}`,
    onchange: (ev) => { filters[key] = ev.target.value; onChange(); } },
  options.map(([v, text]) => h("option", { value: v, selected: filters[key] === v }, text))));
  return h("div", { class: "filters", role: "search" },
    sel("state", STATES.map((s) => [s, s === "all" ? t("common.all") : s === "open" ? t("alerts.filter.open") : label("alert_state", s)]), "alerts.filter.state"),
    sel("priority", [["", t("common.all")], ...["high", "medium", "low"].map((p) => [p, label("priority", p)])], "alerts.filter.priority"),
    sel("line", [["", t("common.all")], ...lines.map((l) => [l, l])], "alerts.filter.line"),
    h("label", {}, t("alerts.filter.machine"), h("input", { id: "filter-machine", value: filters.machine, size: 12,
      oninput: (ev) => { filters.machine = ev.target.value.trim(); onChange(); } })));
}

function row(a, selected, onOpen) {
  const st = alertState(a);
  return h("tr", { tabindex: selected ? "0" : "-1", "aria-selected": selected ? "true" : "false", "data-alert-id": a.alert_id,
    "data-state": st, onclick: () => onOpen(a.alert_id, true) },
  h("td", {}, priorityBadge(a.priority, st)),
  h("td", {}, a.machine_id),
  h("td", {}, label("mode", a.mode)),
  h("td", {}, stateTag(st)),
  h("td", { class: "num" }, fmtPct(a.probability, 0)),
  h("td", { class: "num", title: fmtAgo(a.raised_at) }, fmtDate(a.raised_at)),
  h("td", {}, a.assigned_to || "—"),
  h("td", { title: a.escalation_level ? t("alerts.escalated", { n: a.escalation_level, ago: fmtAgo(a.escalated_at) }) : "" },
    a.escalation_level ? `▲ ${a.escalation_level}` : ""));
}

export async function render(root, [selectedId], ctx) {
  let all = [];
  let selected = selectedId || null;
  const listBox = h("div", { id: "alert-list-box" });
  const detail = h("section", { class: "panel", id: "alert-detail", "aria-live": "polite" }, h("p", { class: "muted" }, t("alerts.select")));
  let rows = [];

  const open = async (id, focusDetail = false) => {
    selected = id;
    rows.forEach((r) => { const on = r.dataset.alertId === id; r.setAttribute("aria-selected", on); r.tabIndex = on ? 0 : -1; });
    if (location.hash !== `#/alerts/${encodeURIComponent(id)}`) history.replaceState(null, "", `#/alerts/${encodeURIComponent(id)}`);
    await detailPanel(detail, id, ctx, async () => { await reload(); ctx.refreshCounts(); });
    if (focusDetail) detail.querySelector("button")?.focus();
  };
  const drawList = () => {
    // Live updates redraw the list: keep keyboard focus on the same alert.
    const focusedId = listBox.contains(document.activeElement) ? document.activeElement.dataset.alertId : null;
    const shown = sortAlerts(all.filter(matches));
    if (!selected && shown.length) selected = shown[0].alert_id;
    rows = shown.map((a) => row(a, a.alert_id === selected, open));
    fill(listBox, shown.length ? h("table", { class: "alert-list", id: "alert-list", role: "grid", "aria-label": t("alerts.title") },
      h("thead", {}, h("tr", {}, ["priority", "machine", "mode", "state", "prob", "raised", "assigned", "escalation"].map((c) => h("th", {}, t(`alerts.col.${c}`))))),
      h("tbody", { onkeydown: onKey }, rows)) : h("p", { id: "alerts-empty" }, t("alerts.empty")));
    const again = focusedId && rows.find((r) => r.dataset.alertId === focusedId);
    if (again) { rows.forEach((x) => { x.tabIndex = -1; }); again.tabIndex = 0; again.focus(); }
  };
  const reload = async () => {
    try { all = await loadAlerts(filters.state === "open" ? {} : {}); drawList(); } catch (exc) { fill(listBox, errorBox(exc.message)); }
  };
  function onKey(ev) {
    const i = rows.findIndex((r) => r === document.activeElement);
    if (i < 0) return;
    const move = (j) => { ev.preventDefault(); const r = rows[Math.max(0, Math.min(rows.length - 1, j))]; rows.forEach((x) => { x.tabIndex = -1; }); r.tabIndex = 0; r.focus(); open(r.dataset.alertId); };
    if (ev.key === "ArrowDown" || ev.key === "j") move(i + 1);
    else if (ev.key === "ArrowUp" || ev.key === "k") move(i - 1);
    else if (ev.key === "Home") move(0);
    else if (ev.key === "End") move(rows.length - 1);
    else if (ev.key === "Enter") { ev.preventDefault(); open(rows[i].dataset.alertId, true); }
    else if (ev.key === "a" && ctx.hasRole("operator")) {
      // The id now: a live reload may redraw (and re-sort) the rows before the acknowledge returns.
      ev.preventDefault(); const id = rows[i].dataset.alertId;
      post(`/alerts/${encodeURIComponent(id)}/acknowledge`, {}).then(() => open(id)).then(reload).then(ctx.refreshCounts).catch((e) => fill(detail, errorBox(e.message)));
    }
  }
  const onGlobalKey = (ev) => {
    if (ev.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName)) { ev.preventDefault(); document.getElementById("filter-state")?.focus(); }
  };
  // One list request (it also gives the line filter) while the selected alert's detail loads.
  const shown = selected ? open(selected) : null;
  let listError = null;
  try { all = await loadAlerts(); } catch (exc) { listError = exc; }
  const plantLines = [...new Set(all.map((a) => a.machine_id.split("/")[0]))];
  fill(root, h("h1", {}, t("alerts.title")),
    filterBar(plantLines.sort(), drawList),
    h("p", { class: "kbd-help" }, t("alerts.keys")),
    h("div", { class: "inbox" }, h("div", { class: "panel" }, listBox), detail));
  if (listError) fill(listBox, errorBox(listError.message)); else drawList();
  if (shown) await shown; else if (selected) await open(selected);
  const onAlert = coalesce(reload, 2000); // at most one reload per 2 s
  window.addEventListener("lw:alert", onAlert);
  document.addEventListener("keydown", onGlobalKey);
  const poll = setInterval(reload, 15000);
  return () => { onAlert.cancel(); window.removeEventListener("lw:alert", onAlert); document.removeEventListener("keydown", onGlobalKey); clearInterval(poll); };
}
