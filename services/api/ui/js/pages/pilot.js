// The latest stored pilot report (GET /pilot/reports/latest): policies side by side.
import { get } from "../api.js";
import { errorBox, fill, h } from "../dom.js";
import { fmtDate, fmtNum, t } from "../i18n.js";
import { termLabel } from "../hmi.js";

function numbers(obj) {
  return Object.entries(obj || {}).filter(([, v]) => typeof v === "number");
}

export async function pilotPanel(box) {
  let rep;
  try { rep = await get("/pilot/reports/latest"); } catch (exc) {
    fill(box, h("h2", {}, t("kpis.pilot")), exc.status === 404 ? h("p", { class: "muted", id: "no-pilot" }, t("kpis.no_pilot")) : errorBox(exc.message));
    return;
  }
  const report = rep.report || rep;
  const policies = report.policies || report.arms || {};
  const rows = Array.isArray(policies) ? policies.map((p) => [p.policy || p.name, p.kpis || p]) : Object.entries(policies).map(([k, v]) => [k, v.kpis || v]);
  const cols = [...new Set(rows.flatMap(([, v]) => numbers(v).map(([k]) => k)))];
  fill(box, h("h2", {}, t("kpis.pilot")),
    h("p", { class: "muted" }, `${rep.report_id || report.id || ""} · ${fmtDate(rep.created_at || report.created_at)}`),
    rows.length ? h("table", { id: "pilot-table" }, h("thead", {}, h("tr", {}, h("th", {}, ""), cols.map((c) => h("th", {}, termLabel(c))))),
      h("tbody", {}, rows.map(([p, v]) => h("tr", {}, h("td", {}, termLabel(p)), cols.map((c) => h("td", { class: "num" }, fmtNum(v[c], 3)))))))
      : h("table", {}, h("tbody", {}, numbers(report).map(([k, v]) => h("tr", {}, h("td", {}, termLabel(k)), h("td", { class: "num" }, fmtNum(v, 3)))))));
}
