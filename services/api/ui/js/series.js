// Normalising the API's time-series answers into [[timeMs, value], …] per signal.

/** Points of one series in any of the shapes [{ts, value}], [[ts, v]], {ts: [...], values: [...]}. */
export function toPoints(raw, valueKey = "value") {
  if (!raw) return [];
  if (Array.isArray(raw.ts) && Array.isArray(raw.values)) return raw.ts.map((ts, i) => [Date.parse(ts), raw.values[i]]);
  if (!Array.isArray(raw)) return [];
  return raw.map((p) => (Array.isArray(p) ? [Date.parse(p[0]) || p[0], p[1]]
    : [Date.parse(p.ts || p.t || p.time || p.minute), p[valueKey] ?? p.value ?? p.mean ?? p.avg ?? p.last ?? null]))
    .filter((p) => !Number.isNaN(p[0]));
}

/** {signal: points} from a telemetry answer. */
export function telemetrySeries(res) {
  const out = {};
  if (!res) return out;
  const sig = res.signals || res.series || res;
  if (Array.isArray(sig)) {
    sig.forEach((s) => { out[s.signal || s.name] = toPoints(s.points || s.values || s.data); });
  } else if (typeof sig === "object") {
    Object.entries(sig).forEach(([k, v]) => { out[k] = toPoints(Array.isArray(v) || (v && v.ts) ? v : v.points); });
  }
  if (Array.isArray(res.points) && !Object.keys(out).length) {
    // row shape: [{ts, signals: {name: value}}]
    res.points.forEach((row) => Object.entries(row.signals || row.values || {}).forEach(([k, v]) => {
      (out[k] = out[k] || []).push([Date.parse(row.ts), typeof v === "object" && v !== null ? v.mean ?? v.last : v]);
    }));
  }
  return out;
}

/** A list from an answer that may be wrapped ({items}, {points}, {scores}, {events}). */
export function listOf(res, ...keys) {
  if (Array.isArray(res)) return res;
  for (const k of [...keys, "items", "points", "data"]) if (res && Array.isArray(res[k])) return res[k];
  return [];
}
