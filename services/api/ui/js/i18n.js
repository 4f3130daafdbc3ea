// Language: English and Simplified Chinese (GLOSSARY.md terms), remembered in localStorage.
// Numbers and dates are formatted with Intl for the chosen language.

const LANGS = ["en", "zh-CN"];
const STORE_KEY = "lw.lang";
let lang = "en";
let dict = {};
let fallback = {};

/** The language to start with: the remembered one, else the browser's. */
function initialLang() {
  const saved = localStorage.getItem(STORE_KEY);
  if (LANGS.includes(saved)) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

async function load(code) {
  const res = await fetch(`i18n/${code}.json`, { cache: "no-cache" });
  if (!res.ok) throw new Error(`cannot load language ${code}: HTTP ${res.status}`);
  return res.json();
}

/** Load the dictionaries; call once before rendering. */
export async function initI18n() {
  fallback = await load("en");
  await setLang(initialLang(), false);
}

/** Switch language, remember it, and re-label static elements marked with data-i18n. */
export async function setLang(code, remember = true) {
  lang = LANGS.includes(code) ? code : "en";
  dict = lang === "en" ? fallback : await load(lang);
  if (remember) localStorage.setItem(STORE_KEY, lang);
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
}

export const currentLang = () => lang;
export const otherLang = () => (lang === "en" ? "zh-CN" : "en");

/** Translate a key; {name} placeholders are filled from vars. Unknown keys show the key. */
export function t(key, vars = {}) {
  const text = dict[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** Translate an enumerated value (state, mode, outcome…) if a label exists, else prettify it. */
export function label(group, value) {
  if (value === null || value === undefined || value === "") return "—";
  const key = `${group}.${value}`;
  if (key in dict || key in fallback) return t(key);
  // the scorer's sensor-fault alerts: mode "sensor_fault:<signal>"
  if (group === "mode" && String(value).startsWith("sensor_fault:")) {
    return `${t("sensor_fault.label")}: ${String(value).slice(13).replaceAll("_", " ")}`;
  }
  return String(value).replaceAll("_", " ");
}

export function fmtNum(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(value);
}

export function fmtPct(value, digits = 1) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: digits }).format(value);
}

export function fmtDate(value) {
  if (!value) return "—";
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "medium" }).format(d);
}

/** "3 minutes ago" style, localised. Beyond two days (a replayed or simulated line runs on its
 * own clock) the absolute date and time say more than "321 days ago". */
export function fmtAgo(value) {
  if (!value) return "—";
  const s = (new Date(value).getTime() - Date.now()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const abs = Math.abs(s);
  if (abs > 2 * 86400) return fmtDate(value);
  if (abs < 60) return rtf.format(Math.round(s), "second");
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

/** A line's or machine's name in the current language (name, name_zh; an empty name_zh shows the English one). */
export function localName(o, fallbackId = "") {
  return (lang === "zh-CN" && o.name_zh) || o.name || fallbackId;
}

/** A sensor's label in the current language (SensorPublic label_en, label_zh; an empty label_zh shows the English one). */
export function sensorName(s, fallbackId = "") {
  return (lang === "zh-CN" && s.label_zh) || s.label_en || fallbackId;
}

/** Short axis label: day and time of day. */
export function fmtAxisTime(value) {
  return new Intl.DateTimeFormat(lang, { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(new Date(value));
}
