// KPI page: OEE (availability × performance × quality), defect rate, energy per good part,
// downtime, MTBF/MTTR against the named baseline, as charts; each value's formula and inputs on
// hover. Alert-system health (ISA-18.2 / EEMUA 191) and the latest stored pilot report.
import { ApiError, get, qs } from "../api.js";
import { compareBars } from "../charts.js";
import { errorBox, fill, h } from "../dom.js";
import { fmtDate, fmtNum, fmtPct, label, t } from "../i18n.js";
import { termLabel } from "../hmi.js";
import { loadPlant } from "../plant.js";
import { pilotPanel } from "./pilot.js";

export const name = "kpis";
const RATES = ["oee", "availability", "performance", "quality", "defect_rate"];
const TIMES = ["mtbf_hours", "mttr_hours", "unplanned_downtime_hours"];
const PERIODS = { "24h": 24, "7d": 168, "30d": 720 };
const state = { scope: "plant", id: "", period: "7d", baseline: "" };

/** [{key, value, unit, formula, inputs, baseline, change}] from the API's KPI answer. */
export function kpiList(res) {
  const vals = res.values || res.kpis || res;
  const base = res.baseline_values || res.baseline?.values || {};
  const norm = (key, v) => (v !== null && typeof v === "object" && !Array.isArray(v)
    ? { key, value: v.value, unit: v.unit || "", formula: v.formula || "", inputs: v.inputs || {},
      baseline: v.baseline ?? v.baseline_value ?? base[key]?.value ?? base[key] ?? null, change: v.change ?? v.improvement ?? null }
    : { key, value: v, unit: "", formula: "", inputs: {}, baseline: base[key]?.value ?? base[key] ?? null, change: null });
  if (Array.isArray(vals)) return vals.map((v) => norm(v.name || v.key, v));
  return Object.entries(vals || {}).filter(([, v]) => typeof v === "number" || (v && typeof v === "object" && "value" in v)).map(([k, v]) => norm(k, v));
}

function hoverText(k) {
  const inputs = Object.entries(k.inputs || {}).map(([n, v]) => `${n} = ${typeof v === "number" ? fmtNum(v, 3) : v}`).join("; ");
  return [k.formula && `${t("kpis.formula")}: ${k.formula}`, inputs && `${t("kpis.inputs")}: ${inputs}`].filter(Boolean).join("\n");
}

function card(k) {
  const isRate = RATES.includes(k.key) || k.unit === "ratio";
  const fmt = (v) => (v === null || v === undefined ? "—" : isRate && v <= 1.5 ? fmtPct(v, 1) : fmtNum(v, 2));
  return h("div", { class: "kpi-card", "data-kpi": k.key, title: hoverText(k) },
    h("div", { class: "muted" }, h("abbr", { title: hoverText(k) }, label("kpi", k.key) === k.key.replaceAll("_", " ") ? termLabel(k.key) : label("kpi", k.key))),
    h("div", { class: "v num" }, fmt(k.value)),
    k.baseline !== null ? h("div", { class: "muted" }, `${t("kpis.base")}: ${fmt(k.baseline)}`) : null,
    k.change !== null && k.change !== undefined ? h("div", {}, t("kpis.improvement", { v: typeof k.change === "object" ? fmtPct(k.change.value, 1) : fmtPct(k.change, 1) })) : null);
}

function charts(list, box) {
  const byKey = Object.fromEntries(list.map((k) => [k.key, k]));
  const groups = [[RATES, t("kpis.rates"), 100], [TIMES, t("kpis.times"), 1], [["energy_per_good_part_kwh"], label("kpi", "energy_per_good_part_kwh"), 1]];
  groups.forEach(([keys, title, scale]) => {
    const ks = keys.filter((k) => byKey[k]);
    if (!ks.length) return;
    const el = h("div", { class: "chart", "data-chart": title });
    box.append(h("div", {}, h("h2", {}, title), el));
    compareBars(el, { labels: ks.map((k) => label("kpi", k)), nowName: t("kpis.now"), baseName: t("kpis.base"),
      now: ks.map((k) => (byKey[k].value ?? null) * scale), baseline: ks.map((k) => (byKey[k].baseline ?? null) === null ? null : byKey[k].baseline * scale),
      formulas: ks.map((k) => hoverText(byKey[k]).replaceAll("\n", "<br>")) });
  });
}

async function alertSystem(box) {
  try {
    const res = await get("/alert-system/kpis");
    fill(box, h("h2", {}, t("kpis.alert_system")), h("div", { class: "kpi-cards", id: "alert-system-kpis" }, kpiList(res).map(card)));
  } catch (exc) { fill(box, h("h2", {}, t("kpis.alert_system")), errorBox(exc.message)); }
}

export async function render(root) {
  const lines = await loadPlant().catch(() => []);
  const body = h("div", { id: "kpi-body" });
  const ids = { plant: [""], line: lines.map((l) => l.id), machine: lines.flatMap((l) => l.machines.map((m) => m.machineId)) };
  const reload = async () => {
    const to = new Date();
    const from = new Date(to.getTime() - PERIODS[state.period] * 3600e3);
    fill(body, h("p", {}, t("common.loading")));
    try {
      const res = await get(`/kpis${qs({ scope: state.scope, id: state.scope === "plant" ? "" : state.id, baseline_id: state.baseline })}`);
      const list = kpiList(res);
      const chartBox = h("div", { class: "grid2" });
      const bl = res.baseline;
      fill(body,
        h("p", { class: "muted" }, `${fmtDate(res.from || from)} – ${fmtDate(res.to || to)}`,
          bl ? ` · ${t("kpis.baseline")}: ${bl.name || bl.baseline_id} (${fmtDate(bl.start)} – ${fmtDate(bl.end)})` : ""),
        bl ? null : h("p", { class: "muted", id: "no-baseline" }, t("kpis.no_baseline")),
        h("div", { class: "kpi-cards", id: "kpi-cards" }, list.map(card)), chartBox);
      charts(list, chartBox);
    } catch (exc) { fill(body, errorBox(exc instanceof ApiError ? exc.message : String(exc))); }
  };
  const scopeSel = h("select", { id: "kpi-scope", onchange: (ev) => { state.scope = ev.target.value; state.id = ids[state.scope][0] || ""; drawIdSel(); reload(); } },
    ["plant", "line", "machine"].map((s) => h("option", { value: s, selected: state.scope === s }, s === "plant" ? t("kpis.plant") : t(`alerts.filter.${s}`))));
  const idBox = h("span", {});
  const drawIdSel = () => fill(idBox, state.scope === "plant" ? null : h("label", {}, t(`alerts.filter.${state.scope}`),
    h("select", { id: "kpi-id", onchange: (ev) => { state.id = ev.target.value; reload(); } }, ids[state.scope].map((i) => h("option", { value: i, selected: state.id === i }, i)))));
  drawIdSel();
  const sys = h("section", { class: "panel", id: "alert-system" });
  const pilot = h("section", { class: "panel", id: "pilot" });
  fill(root, h("h1", {}, t("kpis.title")),
    h("div", { class: "filters" }, h("label", {}, t("kpis.scope"), scopeSel), idBox,
      h("label", {}, t("kpis.baseline"), h("input", { id: "kpi-baseline", size: 14, value: state.baseline, onchange: (ev) => { state.baseline = ev.target.value.trim(); reload(); } }))),
    h("section", { class: "panel" }, body), sys, pilot);
  await Promise.all([reload(), alertSystem(sys), pilotPanel(pilot)]);
}
