// Reading the plant and alerts from the API into the shapes the pages use.
import { get, qs } from "./api.js";

/** Lines with their machines: [{id, name…, machines: [{line, id, machineId, kind, state, health…}]}]. */
export async function loadPlant() {
  const plant = await get("/plant");
  const lines = Array.isArray(plant) ? plant : plant.lines || [];
  return lines.map((line) => ({
    ...line,
    id: line.id || line.line_id,
    machines: (line.machines || []).map((m) => {
      const mid = m.machine_id || `${line.id || line.line_id}/${m.id}`;
      const [lineId, id] = mid.split("/");
      return { ...m, line: lineId, id, machineId: mid, openAlerts: m.open_alerts ?? m.open_alert_count ?? 0,
        health: m.health ?? m.latest_health ?? null, state: m.state || m.machine_state || null };
    }),
  }));
}

/** Alerts as a list, whatever the envelope ({items}, {alerts} or a bare list). */
export async function loadAlerts(params = {}) {
  const res = await get(`/alerts${qs({ limit: 500, ...params })}`);
  return Array.isArray(res) ? res : res.items || res.alerts || [];
}

export const PRIORITY_ORDER = { high: 0, medium: 1, low: 2 };

/** Path segment for a machine's routes. */
export const machinePath = (machineId) => {
  const [line, machine] = machineId.split("/");
  return `/lines/${encodeURIComponent(line)}/machines/${encodeURIComponent(machine)}`;
};
