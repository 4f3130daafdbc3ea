// Machine page (ISA-101 level 3): current assessment (health, failure probability per mode,
// RUL with interval, defect risk), the explanation as a sentence and a factor chart, signal
// trends against their normal bands, health history and maintenance history.
import { get, qs } from "../api.js";
import { bandLine, factorBars, healthLine } from "../charts.js";
import { errorBox, fill, h } from "../dom.js";
import { currentLang, fmtAgo, fmtDate, fmtNum, label, localName, sensorName, t } from "../i18n.js";
import { OPEN_STATES, alertState, healthValue, priorityBadge, rangedValue, signalLabel, stateTag, termLabel } from "../hmi.js";
import { machinePath } from "../plant.js";
import { telemetrySeries, toPoints } from "../series.js";
import { sensorTable, eventsTable } from "./machine_tables.js";

export const name = "machine";
const MAX_POINTS = 300;

// The API returns the latest score's fields on the machine itself (MachineDetail; health null before the first score).
const scoreOf = (d) => (d.health === null ? null : d);
// The scorer's default alert threshold (LINEWATCH_SCORING__ALERT_THRESHOLD); MachineDetail does not carry it.
const ALERT_THRESHOLD = 0.5;
const PERIODS = { "6h": 6, "24h": 24, "7d": 168 };
let period = "24h";

function explanationText(detail) {
  return currentLang() === "zh-CN" ? detail.explanation.sentence_zh : detail.explanation.sentence_en;
}

function assessment(score, threshold) {
  if (!score) return h("section", { class: "panel" }, h("h2", {}, t("machine.assessment")), h("p", {}, t("overview.no_score")));
  const probs = Object.entries(score.failure_probability).sort((a, b) => b[1] - a[1]);
  const rul = score.rul_hours;
  return h("section", { class: "panel", id: "assessment" },
    h("h2", {}, t("machine.assessment")),
    h("div", { class: "grid2" },
      h("div", {},
        h("div", { class: "muted" }, t("machine.health")),
        h("div", { id: "health-value", class: "num big-value" }, fmtNum(score.health, 0)),
        healthValue(score.health),
        Object.keys(score.component_health).length ? h("div", {}, h("div", { class: "muted" }, t("machine.components")),
          h("table", {}, h("tbody", {}, Object.entries(score.component_health).map(([c, v]) =>
            h("tr", {}, h("td", {}, termLabel(c)), h("td", {}, healthValue(v))))))) : null),
      h("div", {},
        h("div", { class: "muted" }, t("machine.failure_prob", { h: fmtNum(score.horizon_hours, 0) })),
        h("table", { id: "failure-probabilities" }, h("tbody", {}, probs.map(([mode, p]) => h("tr", { "data-mode": mode },
          h("td", {}, label("mode", mode)),
          h("td", {}, rangedValue(p * 100, 0, threshold * 100, "%", 1)))).concat(
          score.no_skill_modes.map((mode) => h("tr", { "data-mode": mode, class: "no-skill" },
            h("td", {}, label("mode", mode)), h("td", { class: "muted" }, t("machine.no_skill"))))))),
        h("div", { class: "muted gap-top" }, t("machine.rul")),
        h("div", { id: "rul" }, rul === null ? "—" : t("machine.rul_value", {
          v: fmtNum(rul, 0), lo: fmtNum(score.rul_low_hours, 0), hi: fmtNum(score.rul_high_hours, 0),
          conf: t("conf.default") }),
        score.rul_mode ? h("div", { class: "muted" }, t("machine.rul_mode", { mode: label("mode", score.rul_mode) })) : null),
        h("div", { class: "muted gap-top" }, t("machine.defect_risk")),
        h("div", { id: "defect-risk" }, score.defect_risk === null ? "—" : rangedValue(score.defect_risk * 100, 0, threshold * 100, "%", 1)))),
    h("p", { class: "muted" }, t("machine.model", { v: score.model_version, ago: fmtAgo(score.scored_at) }), ` · ${fmtDate(score.scored_at)}`));
}

function explanation(score, detail) {
  const factors = score ? score.explanation.factors.slice(0, 8) : [];
  const chartEl = h("div", { class: "chart", id: "factor-chart" });
  const sec = h("section", { class: "panel", id: "explanation" },
    h("h2", {}, t("machine.explanation")),
    h("p", { id: "explanation-sentence", class: "lead" }, explanationText(detail) || "—"),
    factors.length ? h("div", { class: "grid2" }, chartEl,
      h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, t("machine.factors")), h("th", {}, t("machine.factor_value")))),
        h("tbody", {}, factors.map((f) => h("tr", {}, h("td", {}, signalLabel(f.feature).text),
          h("td", {}, rangedValue(f.value, f.normal_low, f.normal_high))))))) : null);
  return { sec, draw: () => factors.length && factorBars(chartEl, { title: t("machine.factor_chart"),
    labels: factors.map((f) => signalLabel(f.feature).text), values: factors.map((f) => f.contribution) }) };
}

export async function render(root, [line, machineId]) {
  fill(root, h("p", {}, t("common.loading")));
  const base = machinePath(`${line}/${machineId}`);
  const detail = await get(base);
  const score = scoreOf(detail);
  const threshold = ALERT_THRESHOLD;
  const sensors = detail.sensors;
  // Ranges end at the newest score, not the wall clock: a simulated line runs ahead of it.
  const to = new Date(detail.scored_at || Date.now());
  const from = new Date(to.getTime() - PERIODS[period] * 3600e3);
  const range = { from: from.toISOString(), to: to.toISOString(), max_points: MAX_POINTS };
  const [scores, telemetry, events, alerts] = await Promise.all([
    get(`${base}/scores${qs(range)}`).catch((e) => ({ error: e.message })),
    get(`${base}/telemetry${qs({ signals: sensors.map((s) => s.name).join(","), ...range })}`).catch((e) => ({ error: e.message })),
    get(`${base}/events${qs({ kind: "failure,maintenance_done,plc_alarm", limit: 100 })}`).catch((e) => ({ error: e.message })),
    get(`/alerts${qs({ machine: `${line}/${machineId}`, limit: 50 })}`).catch(() => ({ items: [] })),
  ]);
  const ex = explanation(score, detail);
  const healthEl = h("div", { class: "chart", id: "health-chart" });
  const series = telemetrySeries(telemetry);
  const sigCharts = sensors.map((s) => ({ s, el: h("div", { class: "chart small", "data-signal": s.name }) }));
  const openAlerts = alerts.items.filter((a) => OPEN_STATES.has(alertState(a)));
  fill(root,
    h("p", {}, h("a", { href: "#/overview" }, `← ${t("nav.overview")}`)),
    h("h1", {}, `${localName(detail, machineId)} `, h("span", { class: "muted" }, `${line}/${machineId} · ${label("kind", detail.kind)} · `),
      h("span", { class: "state-tag", id: "machine-state" }, label("state", detail.state))),
    openAlerts.length ? h("section", { class: "panel", id: "machine-alerts" }, h("h2", {}, t("machine.alerts")),
      h("ul", {}, openAlerts.map((a) => h("li", {}, priorityBadge(a.priority, alertState(a)), " ", label("mode", a.mode), " ",
        stateTag(alertState(a)), " ", h("a", { href: `#/alerts/${encodeURIComponent(a.alert_id)}` }, t("machine.open_inbox")))))) : null,
    assessment(score, threshold),
    ex.sec,
    h("div", { class: "filters" }, h("label", {}, t("machine.period"), h("select", { id: "machine-period",
      onchange: (ev) => { period = ev.target.value; render(root, [line, machineId]); } },
    Object.keys(PERIODS).map((p) => h("option", { value: p, selected: p === period }, t(`period.${p}`)))))),
    h("section", { class: "panel" }, h("h2", {}, t("machine.health_history")),
      scores.error ? errorBox(scores.error) : healthEl),
    h("section", { class: "panel", id: "signals" }, h("h2", {}, t("machine.signals")),
      sensorTable(sensors),
      telemetry.error ? errorBox(telemetry.error) : h("div", { class: "grid2" }, sigCharts.map((c) => c.el))),
    h("section", { class: "panel", id: "maintenance" }, h("h2", {}, t("machine.maintenance")),
      events.error ? errorBox(events.error) : eventsTable(events)));
  ex.draw();
  if (!scores.error) healthLine(healthEl, { title: t("machine.health"), points: toPoints(scores.points, "health") });
  sigCharts.forEach(({ s, el }) => {
    const lbl = signalLabel(s.name);
    bandLine(el, { name: sensorName(s, lbl.text), unit: s.unit || lbl.unit, points: series[s.name] || [], lo: s.normal_low, hi: s.normal_high });
  });
  const onScore = (ev) => {
    if (ev.detail?.machine_id !== `${line}/${machineId}`) return;
    const v = document.getElementById("health-value");
    if (v) v.textContent = fmtNum(ev.detail.health, 0);
  };
  window.addEventListener("lw:score", onScore);
  return () => window.removeEventListener("lw:score", onScore);
}
