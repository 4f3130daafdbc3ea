// Line overview (ISA-101 level 1): every machine a tile with health against its bands, state,
// open alerts and a trend arrow. Read-only: tiles are links, there are no control actions here.
import { get, qs } from "../api.js";
import { coalesce, errorBox, fill, h } from "../dom.js";
import { fmtAgo, fmtNum, label, localName, t } from "../i18n.js";
import { OPEN_STATES, alertState, healthBand, healthValue, priorityBadge, trendArrow } from "../hmi.js";
import { PRIORITY_ORDER, loadAlerts, loadPlant, machinePath } from "../plant.js";

export const name = "overview";
const TREND_POINTS = 12;

async function seedTrends(machines, trends) {
  await Promise.all(machines.map(async (m) => {
    try {
      if (!m.last_score_at) return;
      const to = new Date(m.last_score_at);
      const from = new Date(to.getTime() - 6 * 3600e3);
      const res = await get(`${machinePath(m.machineId)}/scores${qs({ from: from.toISOString(), to: to.toISOString(), max_points: TREND_POINTS })}`);
      const pts = res.points;
      trends.set(m.machineId, pts.map((p) => p.health).filter((v) => v !== null && v !== undefined).slice(-TREND_POINTS));
    } catch { trends.set(m.machineId, []); }
  }));
}

function tile(m, alerts, trend) {
  const open = alerts.filter((a) => OPEN_STATES.has(alertState(a)));
  open.sort((a, b) => PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority]);
  const arrow = trendArrow(trend);
  const band = healthBand(m.health);
  const top = open[0];
  return h("a", { class: `tile${open.length ? " has-alert" : ""}`, href: `#/machine/${m.line}/${m.id}`,
    "data-machine": m.machineId, "data-health": m.health ?? "", "data-band": band },
  h("div", { class: "name" }, h("span", {}, localName(m, m.id)),
    top ? priorityBadge(top.priority, alertState(top)) : null),
  h("div", { class: "kind" }, `${m.machineId} · ${label("kind", m.kind)}`),
  h("div", { class: "state", "data-state": m.state || "" }, label("state", m.state)),
  m.health === null || m.health === undefined
    ? h("div", { class: "muted no-score" }, t("overview.no_score"))
    : h("div", {}, h("span", { class: "health num" }, fmtNum(m.health, 0)),
      h("span", { class: "trend", title: t(arrow.key), "aria-label": t(arrow.key) }, arrow.symbol),
      h("span", { class: "muted" }, ` ${t("overview.health")} · ${t(`band.${band}`)} · `), healthValue(m.health)),
  h("div", { class: "muted alerts-line" }, open.length
    ? `${t("overview.open_alerts")}: ${open.length}` : t("overview.no_alerts")),
  m.last_score_at ? h("div", { class: "muted small" },
    t("common.updated", { ago: fmtAgo(m.last_score_at) })) : null);
}

export async function render(root) {
  fill(root, h("p", {}, t("common.loading")));
  const trends = new Map();
  let lines = [];
  let alerts = [];
  const body = h("div", { id: "overview" });
  const draw = () => {
    const blocks = lines.map((line) => h("section", { class: "line-block", "data-line": line.id },
      h("h2", {}, `${localName(line, line.id)} — ${t("overview.machines", { n: line.machines.length })}`),
      h("div", { class: "tiles" }, line.machines.map((m) => tile(m, alerts.filter((a) => a.machine_id === m.machineId), trends.get(m.machineId))))));
    fill(body, blocks.length ? blocks : h("p", {}, t("overview.empty")));
  };
  const reload = async () => {
    try {
      [lines, alerts] = await Promise.all([loadPlant(), loadAlerts()]);
      draw();
    } catch (exc) { fill(body, errorBox(exc.message)); }
  };
  await reload();
  await seedTrends(lines.flatMap((l) => l.machines), trends);
  draw();
  fill(root, h("h1", {}, t("overview.title")), h("p", { class: "muted" }, t("overview.legend")), body);

  // Live: a score updates its tile at once; alert changes reload the alert list.
  const onScore = (ev) => {
    const s = ev.detail || {};
    const m = lines.flatMap((l) => l.machines).find((x) => x.machineId === s.machine_id);
    if (!m || s.health === undefined) return;
    m.health = s.health;
    m.last_score_at = s.ts;
    const tr = trends.get(m.machineId) || [];
    tr.push(s.health);
    trends.set(m.machineId, tr.slice(-TREND_POINTS));
    redraw();
  };
  const redraw = coalesce(draw, 1000); // at most one redraw a second, however many scores arrive
  const onAlert = coalesce(reload, 2000); // at most one reload per 2 s, as the inbox does
  window.addEventListener("lw:score", onScore);
  window.addEventListener("lw:alert", onAlert);
  const poll = setInterval(reload, 10000); // also catches state changes and missed stream events
  return () => {
    window.removeEventListener("lw:score", onScore);
    window.removeEventListener("lw:alert", onAlert);
    clearInterval(poll);
    redraw.cancel();
    onAlert.cancel();
  };
}
