// KPI page: OEE (availability × performance × quality), defect rate, energy per good part,
// downtime, MTBF/MTTR against a stored baseline period, as charts; every value's formula and
// inputs on hover. Improvements name their baseline and formula. Alert-system health
// (ISA-18.2 / EEMUA 191) and the latest stored pilot report below.
import { get, qs } from "../api.js";
import { compareBars } from "../charts.js";
import { errorBox, fill, h } from "../dom.js";
import { fmtDate, fmtNum, fmtPct, label, t } from "../i18n.js";
import { termLabel } from "../hmi.js";
import { loadPlant } from "../plant.js";
import { alertSystemPanel } from "./alert_system.js";
import { pilotPanel } from "./pilot.js";

export const name = "kpis";
const RATES = ["oee", "availability", "performance", "quality", "defect_rate"];
const TIMES = ["mtbf_hours", "mttr_hours", "unplanned_downtime_hours", "planned_downtime_hours"];
const CARDS = [...RATES, "energy_per_good_part_kwh", ...TIMES, "failures", "parts", "good_parts",
  "maintenance_cost", "operating_cost", "alert_precision", "alert_recall", "alert_lead_time_median_hours"];
const RATE_LIKE = new Set([...RATES, "alert_precision", "alert_recall"]);
const PERIODS = { "24h": 24, "7d": 168, "30d": 720 };
const state = { scope: "plant", id: "", period: "7d", baseline: "" };

const kpiName = (k) => (label("kpi", k) === k.replaceAll("_", " ") ? termLabel(k) : label("kpi", k));
const fmtKpi = (k, v) => (v === null || v === undefined ? "—" : RATE_LIKE.has(k) ? fmtPct(v, 1) : fmtNum(v, 2));

/** Formula (from the dictionary) and the period's inputs, for the hover text. */
function hoverText(k, totals) {
  const f = t(`formula.${k}`);
  const inputs = Object.entries(totals || {}).filter(([n]) => (t(`formula_inputs.${k}`) || "").split(",").includes(n))
    .map(([n, v]) => `${n} = ${fmtNum(v, 3)}`).join("; ");
  return [f !== `formula.${k}` ? `${t("kpis.formula")}: ${f}` : "", inputs ? `${t("kpis.inputs")}: ${inputs}` : ""].filter(Boolean).join("\n");
}

function card(k, now, base) {
  const hover = hoverText(k, now.totals);
  return h("div", { class: "kpi-card", "data-kpi": k, title: hover, tabindex: "0" },
    h("div", { class: "muted" }, h("abbr", { title: hover }, kpiName(k))),
    h("div", { class: "v num" }, fmtKpi(k, now[k])),
    base ? h("div", { class: "muted" }, `${t("kpis.base")}: ${fmtKpi(k, base[k])}`) : null);
}

function improvementsTable(list) {
  if (!list.length) return null;
  return h("table", { id: "improvements" }, h("thead", {}, h("tr", {}, [t("kpis.improvement_col"), t("kpis.value"), t("kpis.formula"), t("kpis.inputs"), t("kpis.target_col")].map((c) => h("th", {}, c)))),
    h("tbody", {}, list.map((i) => h("tr", { "data-improvement": i.name, title: `${i.formula}` },
      h("td", {}, termLabel(i.name)), h("td", { class: "num" }, fmtPct(i.value, 1)), h("td", {}, i.formula),
      h("td", { class: "muted" }, Object.entries(i.inputs || {}).map(([n, v]) => `${n} = ${fmtNum(v, 4)}`).join("; ")),
      h("td", {}, i.target === null || i.target === undefined ? "—" : `${fmtPct(i.target, 0)} ${i.met ? `✓ ${t("kpis.met")}` : `✗ ${t("kpis.not_met")}`}`)))));
}

function charts(now, base, box) {
  [[RATES, t("kpis.rates"), 100], [TIMES, t("kpis.times"), 1], [["energy_per_good_part_kwh"], kpiName("energy_per_good_part_kwh"), 1]]
    .forEach(([keys, title, scale]) => {
      const el = h("div", { class: "chart", "data-chart": keys[0] });
      box.append(h("div", {}, h("h2", {}, title), el));
      const val = (src, k) => (src && src[k] !== null && src[k] !== undefined ? src[k] * scale : null);
      compareBars(el, { labels: keys.map(kpiName), nowName: t("kpis.now"), baseName: t("kpis.base"),
        now: keys.map((k) => val(now, k)), baseline: keys.map((k) => val(base, k)),
        formulas: keys.map((k) => hoverText(k, now.totals).replaceAll("\n", "<br>")) });
    });
}

export async function render(root) {
  const [lines, baselines] = await Promise.all([loadPlant().catch(() => []), get("/baselines").catch(() => [])]);
  const newest = lines.flatMap((l) => l.machines).map((m) => Date.parse(m.last_score_at || "")).filter((x) => !Number.isNaN(x));
  const end = new Date(newest.length ? Math.max(...newest) : Date.now()); // simulated lines run ahead of the wall clock
  const ids = { plant: [""], line: lines.map((l) => l.id), machine: lines.flatMap((l) => l.machines.map((m) => m.machineId)) };
  const body = h("div", { id: "kpi-body" });
  const reload = async () => {
    const from = new Date(end.getTime() - PERIODS[state.period] * 3600e3);
    fill(body, h("p", {}, t("common.loading")));
    try {
      const res = await get(`/kpis${qs({ scope: state.scope, id: state.scope === "plant" ? "" : state.id, baseline_id: state.baseline,
        from: from.toISOString(), to: end.toISOString() })}`);
      const chartBox = h("div", { class: "grid2" });
      const bl = res.baseline;
      fill(body,
        h("p", { class: "muted" }, `${fmtDate(from)} – ${fmtDate(end)}`,
          bl ? ` · ${t("kpis.baseline")}: ${bl.name} (${fmtDate(bl.start)} – ${fmtDate(bl.end)})` : ""),
        bl ? null : h("p", { class: "muted", id: "no-baseline" }, t("kpis.no_baseline")),
        h("div", { class: "kpi-cards", id: "kpi-cards" }, CARDS.filter((k) => k in res.kpis).map((k) => card(k, res.kpis, res.baseline_kpis))),
        improvementsTable(res.improvements || []), chartBox);
      charts(res.kpis, res.baseline_kpis, chartBox);
    } catch (exc) { fill(body, errorBox(exc.message)); }
  };
  const select = (id, options, value, onchange) => h("select", { id, onchange: (ev) => onchange(ev.target.value) },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  const idBox = h("span", {});
  const drawIdSel = () => fill(idBox, state.scope === "plant" ? null : h("label", {}, t(`alerts.filter.${state.scope}`),
    select("kpi-id", ids[state.scope].map((i) => [i, i]), state.id, (v) => { state.id = v; reload(); })));
  drawIdSel();
  const sys = h("section", { class: "panel", id: "alert-system" });
  const pilot = h("section", { class: "panel", id: "pilot" });
  fill(root, h("h1", {}, t("kpis.title")),
    h("div", { class: "filters" },
      h("label", {}, t("kpis.scope"), select("kpi-scope", ["plant", "line", "machine"].map((s) => [s, s === "plant" ? t("kpis.plant") : t(`alerts.filter.${s}`)]),
        state.scope, (v) => { state.scope = v; state.id = ids[v][0] || ""; drawIdSel(); reload(); })),
      idBox,
      h("label", {}, t("machine.period"), select("kpi-period", Object.keys(PERIODS).map((p) => [p, t(`period.${p}`)]), state.period, (v) => { state.period = v; reload(); })),
      h("label", {}, t("kpis.baseline"), select("kpi-baseline", [["", t("common.none")], ...baselines.map((b) => [b.baseline_id, b.name])], state.baseline, (v) => { state.baseline = v; reload(); }))),
    h("section", { class: "panel" }, body), sys, pilot);
  await Promise.all([reload(), alertSystemPanel(sys, end), pilotPanel(pilot)]);
}
