// The API's time series (ScoreHistory points, TelemetryHistory signals) as [[timeMs, value], …] for the charts.

/** [[timeMs, point[valueKey]], …] from points that carry `ts` (ScorePoint, a TelemetryHistory signal's points). */
export function toPoints(points, valueKey) {
  return points.map((p) => [Date.parse(p.ts), p[valueKey]]).filter((p) => !Number.isNaN(p[0]));
}

/** {signal: [[timeMs, mean], …]} from a TelemetryHistory answer. */
export function telemetrySeries(res) {
  return Object.fromEntries(Object.entries(res.signals).map(([name, points]) => [name, toPoints(points, "mean")]));
}
