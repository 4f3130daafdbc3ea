// ECharts (served from ../vendor, copied from the npm registry at set-up) in the HMI palette:
// greys for data, a grey band for the normal range, dark blue for values outside it.
// No alarm colours in charts: alert colour is reserved for alert indicators.
import * as echarts from "../vendor/echarts.esm.min.js";
import { currentLang, fmtAxisTime, fmtDate, fmtNum } from "./i18n.js";

const INK = "#111111";
const GREY = "#555555";
const LIGHT = "#9a9a9a";
const BAND = "rgba(120,120,120,0.22)";
const ABNORMAL = "#0b3d91";
const live = new Set();

const base = () => ({
  animation: false,
  textStyle: { color: INK, fontFamily: getComputedStyle(document.body).fontFamily },
  grid: { left: 56, right: 18, top: 28, bottom: 30, containLabel: false },
  tooltip: { trigger: "axis", valueFormatter: (v) => fmtNum(v, 3) },
});

function init(el) {
  const chart = echarts.init(el, null, { renderer: "canvas", locale: currentLang() === "en" ? "EN" : "ZH" });
  live.add(chart);
  return chart;
}

/** Dispose every chart (on page change) so nothing leaks between views. */
export function disposeCharts() {
  live.forEach((c) => c.dispose());
  live.clear();
}
window.addEventListener("resize", () => live.forEach((c) => c.resize()));

/** A time series against its normal band; points outside the band are marked dark blue. */
export function bandLine(el, { name, points, lo = null, hi = null, unit = "", yMin, yMax }) {
  const chart = init(el);
  const out = (v) => v !== null && ((lo !== null && v < lo) || (hi !== null && v > hi));
  chart.setOption({
    ...base(),
    title: { text: unit ? `${name} (${unit})` : name, textStyle: { fontSize: 13, fontWeight: "normal", color: INK } },
    xAxis: { type: "time", axisLabel: { color: GREY, formatter: (v) => fmtAxisTime(v), hideOverlap: true } },
    yAxis: { type: "value", scale: true, min: yMin, max: yMax, axisLabel: { color: GREY } },
    tooltip: { trigger: "axis", formatter: (ps) => `${fmtDate(ps[0].value[0])}<br>${fmtNum(ps[0].value[1], 3)} ${unit}` },
    series: [{
      name, type: "line", showSymbol: false, data: points, lineStyle: { color: GREY, width: 1.5 }, itemStyle: { color: GREY },
      markArea: lo !== null && hi !== null ? { silent: true, itemStyle: { color: BAND }, data: [[{ yAxis: lo }, { yAxis: hi }]] } : undefined,
    }, {
      name: `${name} !`, type: "scatter", symbolSize: 5, itemStyle: { color: ABNORMAL }, tooltip: { show: false },
      data: points.filter((p) => out(p[1])),
    }],
  });
  return chart;
}

/** Horizontal bars (e.g. explanation factors): positive = towards failure (dark), negative light. */
export function factorBars(el, { labels, values, title }) {
  const chart = init(el);
  chart.setOption({
    ...base(),
    grid: { left: 190, right: 30, top: 28, bottom: 24 },
    title: { text: title, textStyle: { fontSize: 13, fontWeight: "normal", color: INK } },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => fmtNum(v, 3) },
    xAxis: { type: "value", axisLabel: { color: GREY } },
    yAxis: { type: "category", data: labels, inverse: true, axisLabel: { color: INK, width: 180, overflow: "truncate" } },
    series: [{ type: "bar", data: values.map((v) => ({ value: v, itemStyle: { color: v >= 0 ? GREY : LIGHT } })) }],
  });
  return chart;
}

/** Grouped bars of current values against the baseline; `formulas` shown in the tooltip. */
export function compareBars(el, { labels, now, baseline, nowName, baseName, formulas = [], unit = "" }) {
  const chart = init(el);
  chart.setOption({
    ...base(),
    legend: { data: [baseName, nowName], textStyle: { color: INK }, top: 0, right: 0 },
    tooltip: {
      trigger: "axis", axisPointer: { type: "shadow" },
      formatter: (ps) => [ps[0].axisValue, ...ps.map((p) => `${p.seriesName}: ${fmtNum(p.value, 3)} ${unit}`),
        formulas[ps[0].dataIndex] || ""].filter(Boolean).join("<br>"),
    },
    xAxis: { type: "category", data: labels, axisLabel: { color: INK, interval: 0, width: 90, overflow: "break" } },
    yAxis: { type: "value", axisLabel: { color: GREY } },
    series: [
      { name: baseName, type: "bar", data: baseline, itemStyle: { color: LIGHT, borderColor: INK, borderWidth: 1 } },
      { name: nowName, type: "bar", data: now, itemStyle: { color: GREY } },
    ],
  });
  return chart;
}

/** Health history 0–100 with the documented bands drawn as grey areas. */
export function healthLine(el, { points, title }) {
  return bandLine(el, { name: title, points, lo: 80, hi: 100, yMin: 0, yMax: 100 });
}
