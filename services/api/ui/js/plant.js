// Reading the plant and alerts from the API into the shapes the pages use.
import { get, qs } from "./api.js";

/** The PlantPublic lines; each MachineSummary gains line, id (its part after the line) and machineId. */
export async function loadPlant() {
  const plant = await get("/plant");
  return plant.lines.map((line) => ({
    ...line,
    machines: line.machines.map((m) => {
      const [lineId, id] = m.machine_id.split("/");
      return { ...m, line: lineId, id, machineId: m.machine_id };
    }),
  }));
}

/** The items of an AlertPage. */
export async function loadAlerts(params = {}) {
  return (await get(`/alerts${qs({ limit: 500, ...params })}`)).items;
}

export const PRIORITY_ORDER = { high: 0, medium: 1, low: 2 };

/** Path segment for a machine's routes. */
export const machinePath = (machineId) => {
  const [line, machine] = machineId.split("/");
  return `/lines/${encodeURIComponent(line)}/machines/${encodeURIComponent(machine)}`;
};
