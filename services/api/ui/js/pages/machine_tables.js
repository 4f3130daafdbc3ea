// Tables on the machine page: latest sensor values against their normal ranges, and the
// maintenance / failure history.
import { h } from "../dom.js";
import { fmtDate, fmtNum, label, sensorName, t } from "../i18n.js";
import { rangedValue, signalLabel, termLabel } from "../hmi.js";

export function sensorTable(sensors) {
  return h("table", { id: "sensor-table" },
    h("thead", {}, h("tr", {}, h("th", {}, t("machine.sensor")), h("th", {}, t("machine.latest")))),
    h("tbody", {}, sensors.map((s) => {
      const lbl = signalLabel(s.name);
      // a sensor fault (stuck, missing, …) is named in words, not only by colour: the value is not used
      const fault = s.fault ? h("span", { class: "sensor-fault", "data-fault": s.fault, title: t("sensor_fault.hint") },
        `⚠ ${t("sensor_fault.label")}: ${t(`sensor_fault.${s.fault}`)}`) : null;
      return h("tr", { "data-signal": s.name, class: s.fault ? "faulted" : "" }, h("td", {}, sensorName(s, lbl.text), fault ? " " : "", fault),
        h("td", {}, rangedValue(s.value, s.normal_low, s.normal_high, s.unit || lbl.unit)));
    })));
}

function eventDetail(e) {
  const p = e.payload; // the MachineEvent as the connector sent it
  const parts = [];
  if (p.mode) parts.push(label("mode", p.mode));
  if (p.action) parts.push(termLabel(p.action));
  if (p.component) parts.push(termLabel(p.component));
  if (p.planned !== undefined && p.planned !== null) parts.push(t(p.planned ? "event.planned" : "event.unplanned"));
  if (p.duration_s) parts.push(`${fmtNum(p.duration_s / 3600, 1)} h`);
  if (p.to_state) parts.push(`${label("state", p.from_state)} → ${label("state", p.to_state)}`);
  if (p.text) parts.push(p.text);
  return parts.join(" · ");
}

export function eventsTable(events) {
  const shown = events.filter((e) => e.kind !== "part_completed").slice(0, 100);
  if (!shown.length) return h("p", { class: "muted" }, t("machine.no_events"));
  return h("table", { id: "events-table" },
    h("thead", {}, h("tr", {}, h("th", {}, t("machine.event_time")), h("th", {}, t("machine.event_kind")), h("th", {}, t("machine.event_detail")))),
    h("tbody", {}, shown.map((e) => h("tr", {}, h("td", { class: "num" }, fmtDate(e.ts)),
      h("td", {}, label("event", e.kind)), h("td", {}, eventDetail(e))))));
}
