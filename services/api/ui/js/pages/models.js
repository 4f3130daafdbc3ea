// Models page (engineer role): the registry with champion and challenger metrics side by side,
// and promotion. Operators never see it: the nav hides it, the router refuses it, and the API
// refuses the promote call for them as well.
import { get, post } from "../api.js";
import { errorBox, fill, h } from "../dom.js";
import { fmtDate, fmtNum, label, t } from "../i18n.js";
import { termLabel } from "../hmi.js";

export const name = "models";
export const minRole = "engineer";

const flat = (obj, prefix = "") => Object.entries(obj || {}).flatMap(([k, v]) =>
  (v && typeof v === "object" && !Array.isArray(v) ? flat(v, `${prefix}${k}.`) : typeof v === "number" ? [[`${prefix}${k}`, v]] : []));

function dataRange(r) {
  if (!r || typeof r !== "object") return "—";
  const vals = Object.entries(r).map(([k, v]) => `${termLabel(k)}: ${typeof v === "string" && !Number.isNaN(Date.parse(v)) && v.includes("T") ? fmtDate(v) : v}`);
  return vals.join(" · ") || "—";
}

export async function render(root, _p, ctx) {
  const msg = h("div", { id: "models-status", "aria-live": "assertive" });
  const body = h("div", {});
  const reload = async () => {
    let models;
    try { models = await get("/models"); } catch (exc) { fill(body, errorBox(exc.message)); return; }
    if (!models.length) { fill(body, h("p", { id: "models-empty" }, t("models.empty"))); return; }
    const metricKeys = [...new Set(models.flatMap((m) => flat(m.metrics).map(([k]) => k)))].slice(0, 24);
    const promote = async (v, force = false) => {
      if (!window.confirm(t("models.confirm", { v }))) return;
      try {
        await post(`/models/${encodeURIComponent(v)}/promote${force ? "?force=true" : ""}`, {});
        fill(msg, t("models.promoted", { v }));
        reload();
      } catch (exc) {
        // 409: the promotion rule said no (e.g. not better on the shared holdout); an engineer may force it.
        fill(msg, errorBox(t("models.refused", { reason: exc.message })), exc.status === 409
          ? h("button", { type: "button", id: "promote-force", onclick: () => promote(v, true) }, t("models.force")) : null);
      }
    };
    fill(body, h("h2", {}, t("models.compare")), h("div", { class: "scroll-x" }, h("table", { id: "models-table" },
      h("thead", {}, h("tr", {}, h("th", {}, t("models.version")), h("th", {}, t("models.role")), h("th", {}, t("models.trained")),
        h("th", {}, t("models.data_range")), metricKeys.map((k) => h("th", { class: "num" }, termLabel(k.replaceAll(".", "_")))), h("th", {}, ""))),
      h("tbody", {}, models.map((m) => {
        const v = m.version;
        const role = m.status; // the registry's: champion, challenger or retired
        const mets = Object.fromEntries(flat(m.metrics));
        return h("tr", { "data-version": v, "data-role": role, class: role === "champion" ? "champion" : "" },
          h("td", {}, v, h("div", { class: "muted" }, m.kind)), h("td", {}, label("models", role)),
          h("td", { class: "num" }, fmtDate(m.created)),
          h("td", { class: "num" }, dataRange(m.data_range)),
          metricKeys.map((k) => h("td", { class: "num" }, fmtNum(mets[k], 3))),
          h("td", {}, role !== "champion" && ctx.hasRole("engineer")
            ? h("button", { type: "button", class: "promote", "data-version": v, onclick: () => promote(v) }, t("models.promote")) : ""));
      })))));
  };
  fill(root, h("h1", {}, t("models.title")), msg, h("section", { class: "panel" }, body));
  await reload();
}
