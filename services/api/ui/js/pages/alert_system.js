// Alert-system health (ISA-18.2 / EEMUA 191): alerts per hour, flood share, chattering, stale,
// top-10 share and the priority split, each against its target.
import { get, qs } from "../api.js";
import { errorBox, fill, h } from "../dom.js";
import { fmtNum, fmtPct, label, t } from "../i18n.js";

const ROWS = [["alerts_per_hour", (v) => fmtNum(v, 2)], ["flood_window_share", (v) => fmtPct(v, 1)],
  ["chattering_alerts", (v) => fmtNum(v, 0)], ["stale_alerts", (v) => fmtNum(v, 0)], ["top10_share", (v) => fmtPct(v, 0)]];

export async function alertSystemPanel(box, end) {
  let res;
  try {
    res = await get(`/alert-system/kpis${qs({ to: end.toISOString(), from: new Date(end.getTime() - 30 * 86400e3).toISOString() })}`);
  } catch (exc) { fill(box, h("h2", {}, t("kpis.alert_system")), errorBox(exc.message)); return; }
  const targets = res.targets || {};
  const split = Object.entries(res.priority_split || {}).map(([p, v]) => `${label("priority", p)} ${fmtPct(v, 0)}`).join(" · ");
  fill(box, h("h2", {}, t("kpis.alert_system")),
    h("div", { class: "kpi-cards", id: "alert-system-kpis" },
      ROWS.map(([k, f]) => h("div", { class: "kpi-card", "data-kpi": k, title: t(`formula.${k}`) },
        h("div", { class: "muted" }, h("abbr", { title: t(`formula.${k}`) }, label("kpi", k))),
        h("div", { class: "v num" }, res[k] === null || res[k] === undefined ? "—" : f(res[k])),
        targets[k] !== undefined ? h("div", { class: "muted" }, t("kpis.target", { v: typeof targets[k] === "number" ? f(targets[k]) : JSON.stringify(targets[k]) })) : null)),
      h("div", { class: "kpi-card", "data-kpi": "priority_split" }, h("div", { class: "muted" }, label("kpi", "priority_split")),
        h("div", {}, split || "—"), h("div", { class: "muted" }, t("kpis.split_target")))));
}
