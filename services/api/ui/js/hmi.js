// HMI widgets (DESIGN.md §7a): alert priority = colour + shape + text; values against their
// normal range; only unacknowledged alerts blink; normal is shown without colour.
import { h } from "./dom.js";
import { currentLang, fmtNum, label, t } from "./i18n.js";

export const UNACK_STATES = new Set(["unacknowledged", "rtn_unacknowledged"]);
export const OPEN_STATES = new Set([...UNACK_STATES, "acknowledged"]);
const PRIORITIES = ["high", "medium", "low"];

/** An alert's life-cycle state (AlertPublic.state). */
export function alertState(a) {
  return a.state;
}

/** Priority indicator: shape + word; blinks only while the alert is unacknowledged. */
export function priorityBadge(priority, state) {
  const p = PRIORITIES.includes(priority) ? priority : "low";
  const unack = UNACK_STATES.has(state);
  // Alarm colour only while the alert is open; shelved, suppressed, resolved… keep shape and text in grey.
  const inactive = state && !OPEN_STATES.has(state);
  return h("span", { class: `prio ${p}${unack ? " unack" : ""}${inactive ? " inactive" : ""}`, "data-priority": p, "data-alert-state": state || "" },
    h("span", { class: "shape", "aria-hidden": "true" }),
    h("span", { class: "word" }, label("priority", p)));
}

/** Life-cycle state as a bordered text tag (no colour). */
export function stateTag(state) {
  return h("span", { class: "state-tag", "data-state": state }, label("alert_state", state));
}

/** Band name for a health value (documented bands: >=80 good, 50–80 watch, <50 act). */
export function healthBand(health) {
  if (health === null || health === undefined) return "unknown";
  return health >= 80 ? "good" : health >= 50 ? "watch" : "act";
}

/** Trend arrow from a short history of health values. */
export function trendArrow(history) {
  if (!history || history.length < 2) return { symbol: "→", key: "trend.steady" };
  const delta = history[history.length - 1] - history[0];
  if (delta <= -2) return { symbol: "↘", key: "trend.falling" };
  if (delta >= 2) return { symbol: "↗", key: "trend.rising" };
  return { symbol: "→", key: "trend.steady" };
}

/**
 * A value against its normal range: the number (blue and with ▲/▼ when outside the range) and an
 * analog bar with the normal band. `lo`/`hi` may be null (then only the value is shown).
 */
export function rangedValue(value, lo, hi, unit = "", digits = 2) {
  const out = value !== null && value !== undefined && ((lo !== null && lo !== undefined && value < lo) || (hi !== null && hi !== undefined && value > hi));
  const dir = !out ? "" : value > hi ? "▲" : "▼";
  const text = h("span", { class: `value num${out ? " abnormal" : ""}`, "data-dir": dir,
    title: out ? t("range.outside") : t("range.inside") }, `${fmtNum(value, digits)}${unit ? ` ${unit}` : ""}`);
  if (lo === null || lo === undefined || hi === null || hi === undefined || hi <= lo) return h("span", {}, text);
  const span = hi - lo;
  const min = Math.min(lo - span * 0.5, value ?? lo);
  const max = Math.max(hi + span * 0.5, value ?? hi);
  const pos = (v) => `${(((v - min) / (max - min)) * 100).toFixed(1)}%`;
  const gauge = h("div", { class: `gauge${out ? " abnormal" : ""}`, role: "img",
    "aria-label": t("range.aria", { lo: fmtNum(lo, digits), hi: fmtNum(hi, digits) }) },
  h("span", { class: "band", style: { left: pos(lo), width: `calc(${pos(hi)} - ${pos(lo)})` } }),
  value === null || value === undefined ? null : h("span", { class: "mark", style: { left: pos(value) } }));
  return h("span", { class: "ranged" }, text, h("span", { class: "muted range-text" }, ` (${fmtNum(lo, digits)}–${fmtNum(hi, digits)})`), gauge);
}

/** Health 0–100 against its bands: the 80–100 band is "normal". */
export function healthValue(health) {
  return rangedValue(health, 80, 100, "", 0);
}

/** Humanise a unit-suffixed signal name: spindle_vibration_rms_mm_s -> (label, unit). */
const UNITS = [["_mm_s", "mm/s"], ["_kw", "kW"], ["_kwh", "kWh"], ["_c", "°C"], ["_a", "A"], ["_nm", "N·m"],
  ["_bar", "bar"], ["_rpm", "rpm"], ["_mm", "mm"], ["_um", "µm"], ["_deg", "°"], ["_s", "s"], ["_pct", "%"],
  ["_l_min", "L/min"], ["_hz", "Hz"], ["_g", "g"], ["_v", "V"], ["_ratio", ""]];
export function signalLabel(name) {
  // Feature names are "<signal>__<statistic>_<window>": label the signal, then the statistic.
  const cut = name.indexOf("__");
  if (cut > 0) {
    const sig = signalLabel(name.slice(0, cut));
    return { text: `${sig.text} · ${termLabel(name.slice(cut + 2))}`, unit: sig.unit };
  }
  for (const [suffix, unit] of UNITS) {
    if (name.endsWith(suffix)) return { text: termLabel(name.slice(0, -suffix.length)), unit };
  }
  return { text: termLabel(name), unit: "" };
}

/** Translate a snake_case term: whole-term label if one exists, else word by word (w.<word>). */
export function termLabel(term) {
  const whole = label("term", term);
  if (whole !== term.replaceAll("_", " ")) return whole;
  const words = term.split("_").map((w) => { const x = label("w", w); return x; });
  return currentLang() === "en" ? words.join(" ") : words.join("");
}
