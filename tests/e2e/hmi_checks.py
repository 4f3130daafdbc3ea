"""In-browser checks of the high-performance HMI rules (DESIGN.md §7a) and contrast (WCAG 2.x
relative luminance), run as JavaScript on the live page."""

from __future__ import annotations

ALARM_RGB = [(200, 16, 46), (232, 119, 34), (242, 197, 0)]  # --alert-high / -medium / -low in app.css
OPEN_STATES = {"unacknowledged", "acknowledged", "rtn_unacknowledged"}

ALARM_COLOURED = """(alarm) => {
  const near = (c) => alarm.some((a) => a.every((v, i) => Math.abs(v - c[i]) <= 14));
  const rgb = (s) => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(",").map(Number); return p.length === 4 && p[3] === 0 ? null : p.slice(0, 3); };
  const hits = [];
  for (const el of document.querySelectorAll("body *")) {
    const cs = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (cs.display === "none" || !box.width || !box.height) continue;
    for (const prop of ["color", "backgroundColor", "borderTopColor", "outlineColor"]) {
      if (prop === "borderTopColor" && parseFloat(cs.borderTopWidth) === 0) continue;
      if (prop === "outlineColor" && cs.outlineStyle === "none") continue;
      const c = rgb(cs[prop]);
      if (!c || !near(c)) continue;
      const badge = el.closest(".prio[data-priority]");
      hits.push({ prop, cls: String(el.className), badge: !!badge,
        text: badge ? badge.textContent.trim() : "", shape: badge ? !!badge.querySelector(".shape") : false,
        state: badge ? badge.dataset.alertState : "" });
    }
  }
  return hits;
}"""

BLINKING = """() => [...document.querySelectorAll("body *")]
  .filter((el) => getComputedStyle(el).animationName !== "none")
  .map((el) => ({ cls: String(el.className),
                  state: (el.closest("[data-alert-state]") || {}).dataset?.alertState || "" }))"""

LOW_CONTRAST = """(minRatio) => {
  const rgb = (s) => { const m = s.match(/rgba?\\(([^)]+)\\)/); const p = m[1].split(",").map(Number);
    return { c: p.slice(0, 3), a: p.length === 4 ? p[3] : 1 }; };
  const lum = (c) => {
    const f = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * f[0] + 0.7152 * f[1] + 0.0722 * f[2]; };
  const bgOf = (el) => { for (let e = el; e; e = e.parentElement) { const b = rgb(getComputedStyle(e).backgroundColor);
    if (b.a > 0.5) return b.c; } return [255, 255, 255]; };
  const bad = [];
  let checked = 0;
  for (const el of document.querySelectorAll("body *")) {
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const cs = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (cs.display === "none" || cs.visibility === "hidden" || !box.width) continue;
    const fg = lum(rgb(cs.color).c), bg = lum(bgOf(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    checked += 1;
    if (ratio < minRatio) bad.push({ text: el.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100 });
  }
  return { checked, bad };
}"""


def alarm_colour_violations(page) -> list[dict]:
    """Alarm-coloured elements that are not part of an open alert's badge with shape and text."""
    hits = page.evaluate(ALARM_COLOURED, [list(c) for c in ALARM_RGB])
    return [h for h in hits if not (h["badge"] and h["shape"] and h["text"] and h["state"] in OPEN_STATES)]


def blinking_not_unacknowledged(page) -> list[dict]:
    """Animated elements that are not unacknowledged alerts."""
    return [b for b in page.evaluate(BLINKING) if b["state"] not in ("unacknowledged", "rtn_unacknowledged")]


def low_contrast(page, min_ratio: float = 4.5) -> dict:
    return page.evaluate(LOW_CONTRAST, min_ratio)
