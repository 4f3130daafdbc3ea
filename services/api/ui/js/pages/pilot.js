// The pilot's latest report (GET /pilot/reports/latest): plant KPIs per policy, mean [CI] over seeds,
// and the national targets with their plain verdict. The report holds arms[arm].plant.kpis[name].{mean,low,high,n}.
import { get } from "../api.js";
import { errorBox, fill, h } from "../dom.js";
import { fmtDate, fmtNum, t } from "../i18n.js";
import { termLabel } from "../hmi.js";

const SHOWN = ["operating_cost", "unplanned_downtime_hours", "defect_rate", "energy_per_good_part_kwh", "oee", "failures"];

function cell(arm, name, k) {
  if (!k || typeof k.mean !== "number") return h("td", { class: "num", "data-arm": arm, "data-kpi": name }, "–");
  const ci = typeof k.low === "number" && typeof k.high === "number" ? ` [${fmtNum(k.low, 3)}, ${fmtNum(k.high, 3)}]` : "";
  return h("td", { class: "num", "data-arm": arm, "data-kpi": name, "data-mean": String(k.mean) }, fmtNum(k.mean, 3) + ci);
}

export async function pilotPanel(box) {
  let rep;
  try { rep = await get("/pilot/reports/latest"); } catch (exc) {
    fill(box, h("h2", {}, t("kpis.pilot")), exc.status === 404 ? h("p", { class: "muted", id: "no-pilot" }, t("kpis.no_pilot")) : errorBox(exc.message));
    return;
  }
  const arms = Object.entries(rep.arms || {}).map(([arm, scopes]) => [arm, (scopes.plant || {}).kpis || {}]);
  const seeds = (rep.config || {}).seeds || [];
  // `linewatch pilot` stamps generated_at; an uploaded report without it shows when it was stored (stored_at).
  const when = "generated_at" in rep ? rep.generated_at : rep.stored_at;
  const source = rep.source ? `${rep.source}${rep.uploaded_by ? " · " + rep.uploaded_by : ""}` : "";
  fill(box, h("h2", {}, t("kpis.pilot")),
    h("p", { class: "muted", id: "pilot-meta" }, `${rep.plant || ""} · ${seeds.length} seeds × ${(rep.config || {}).days ?? "?"} d · ${source} · ${fmtDate(when)}`),
    h("table", { id: "pilot-table" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), arms.map(([arm]) => h("th", {}, termLabel(arm))))),
      h("tbody", {}, SHOWN.map((name) => h("tr", {}, h("td", {}, termLabel(name)), arms.map(([arm, k]) => cell(arm, name, k[name])))))),
    (rep.targets || []).length ? h("table", { id: "pilot-targets" }, h("tbody", {}, rep.targets.map((x) =>
      h("tr", {}, h("td", {}, `${termLabel(x.name)} vs ${termLabel(x.baseline)}`),
        h("td", { class: "num" }, typeof x.mean === "number" ? `${(x.mean * 100).toFixed(1)} %` : "–"),
        h("td", {}, x.verdict || (x.met_with_confidence ? "met with confidence" : x.met ? "met on average" : "not met")))))) : "");
}
