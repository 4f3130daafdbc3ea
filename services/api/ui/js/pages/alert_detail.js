// One alert: message, escalation, rationale (cause, consequence, action, time to respond),
// main factors, the operator actions and the audit trail.
import { get, post } from "../api.js";
import { errorBox, fill, h } from "../dom.js";
import { currentLang, fmtAgo, fmtDate, fmtNum, fmtPct, label, t } from "../i18n.js";
import { UNACK_STATES, alertState, priorityBadge, rangedValue, signalLabel, stateTag } from "../hmi.js";

const OUTCOMES = ["confirmed_fault", "false_alarm", "no_fault_found"];
const zh = () => currentLang() === "zh-CN";
// A Rationale text in the current language: `${key}_en` / `${key}_zh`.
const pick = (r, key) => r[zh() ? `${key}_zh` : `${key}_en`];

function rationale(a) {
  const r = a.rationale;
  const rows = [["alerts.cause", pick(r, "cause")], ["alerts.consequence", pick(r, "consequence")],
    ["alerts.action", pick(r, "corrective_action")],
    ["alerts.time_to_respond", r.time_to_respond_minutes ? `${fmtNum(r.time_to_respond_minutes, 0)} min` : null]];
  const shown = rows.filter(([, v]) => v);
  if (!shown.length) return null;
  return h("div", {}, h("h2", {}, t("alerts.rationale")),
    h("dl", { class: "rationale", id: "alert-rationale" }, shown.map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, String(v))])));
}

function auditList(items) {
  return h("div", {}, h("h2", {}, t("alerts.audit")),
    h("ol", { class: "audit", id: "alert-audit" }, items.map((e) => h("li", {},
      h("span", { class: "num" }, fmtDate(e.ts)), " · ", h("b", {}, e.actor), " · ",
      label("audit", e.action.replace(/^alert\./, "")),
      Object.keys(e.detail).length ? h("span", { class: "muted" }, ` ${Object.entries(e.detail).map(([k, v]) => `${k}=${v}`).join(", ")}`) : null))));
}

function form(id, fields, submitText, onSubmit) {
  const el = h("form", { class: "action-form hidden", id, onsubmit: (ev) => { ev.preventDefault(); onSubmit(new FormData(el)); } },
    fields, h("button", { type: "submit" }, submitText),
    h("button", { type: "button", onclick: () => el.classList.add("hidden") }, t("common.cancel")));
  return el;
}

function actions(a, run) {
  const st = alertState(a);
  const resolved = st === "resolved";
  const inTwoHours = new Date(Date.now() + 2 * 3600e3 - new Date().getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
  const assign = form("form-assign", h("label", {}, t("alerts.assignee"), h("input", { name: "assignee", required: true })),
    t("alerts.assign"), (fd) => run("assign", { assignee: fd.get("assignee") }));
  const shelve = form("form-shelve", [h("label", {}, t("alerts.reason"), h("input", { name: "reason", required: true, size: 24 })),
    h("label", {}, t("alerts.until"), h("input", { name: "until", type: "datetime-local", required: true, value: inTwoHours }))],
  t("alerts.shelve"), (fd) => run("shelve", { reason: fd.get("reason"), until: new Date(fd.get("until")).toISOString() }));
  const resolve = form("form-resolve", [
    h("label", {}, t("alerts.outcome"), h("select", { name: "outcome", required: true }, OUTCOMES.map((o) => h("option", { value: o }, label("outcome", o))))),
    h("label", {}, t("alerts.failure_mode"), h("input", { name: "failure_mode", value: a.mode || "" })),
    h("label", {}, t("alerts.cause_found"), h("input", { name: "cause" })),
    h("label", {}, t("alerts.action_taken"), h("input", { name: "action" }))],
  t("alerts.resolve"), (fd) => run("resolve", { outcome: fd.get("outcome"), failure_mode: fd.get("failure_mode") || null,
    cause: fd.get("cause") || null, action: fd.get("action") || null }));
  const comment = form("form-comment", h("label", {}, t("alerts.comment_text"), h("textarea", { name: "text", required: true, rows: 2, cols: 30 })),
    t("alerts.comment"), (fd) => run("comments", { text: fd.get("text") }));
  const toggle = (f) => () => { [assign, shelve, resolve, comment].forEach((x) => x !== f && x.classList.add("hidden")); f.classList.toggle("hidden"); f.querySelector("input,select,textarea")?.focus(); };
  const canAck = UNACK_STATES.has(st);
  return [h("div", { class: "actions", id: "alert-actions" },
    h("button", { type: "button", id: "act-acknowledge", disabled: !canAck, onclick: () => run("acknowledge", {}) }, t("alerts.acknowledge")),
    h("button", { type: "button", id: "act-assign", disabled: resolved, onclick: toggle(assign) }, t("alerts.assign")),
    st === "shelved" ? h("button", { type: "button", id: "act-unshelve", onclick: () => run("unshelve", { reason: "" }) }, t("alerts.unshelve"))
      : h("button", { type: "button", id: "act-shelve", disabled: resolved, onclick: toggle(shelve) }, t("alerts.shelve")),
    h("button", { type: "button", id: "act-resolve", disabled: resolved, onclick: toggle(resolve) }, t("alerts.resolve")),
    h("button", { type: "button", id: "act-comment", onclick: toggle(comment) }, t("alerts.comment"))),
  assign, shelve, resolve, comment];
}

/** Render the alert `id` into `box`; `changed()` is called after a successful action. */
export async function detailPanel(box, id, ctx, changed) {
  let a;
  try { a = await get(`/alerts/${encodeURIComponent(id)}`); } catch (exc) { fill(box, errorBox(exc.message)); return; }
  box.dataset.alertId = a.alert_id; // which alert the panel shows (a live list can move on meanwhile)
  const st = alertState(a);
  const status = h("div", { id: "action-status", "aria-live": "assertive" });
  const run = async (action, body) => {
    try {
      await post(`/alerts/${encodeURIComponent(id)}/${action}`, body);
      await detailPanel(box, id, ctx, changed);
      box.querySelector("#action-status")?.append(t("alerts.done", { what: t(`alerts.${action === "comments" ? "comment" : action}`) }));
      changed();
    } catch (exc) { fill(status, errorBox(exc.message)); }
  };
  const { audit, comments } = a;
  fill(box,
    h("h2", {}, priorityBadge(a.priority, st), " ", label("mode", a.mode), " — ", h("a", { href: `#/machine/${a.machine_id}` }, a.machine_id)),
    h("p", {}, stateTag(st), " ", h("span", { class: "muted" }, `${fmtDate(a.raised_at)} · ${fmtPct(a.probability, 0)}`)),
    a.escalation_level ? h("p", { id: "alert-escalation" }, h("b", {}, t("alerts.escalated", { n: a.escalation_level, ago: fmtAgo(a.escalated_at) }))) : null,
    h("p", { id: "alert-message", class: "lead" }, (zh() ? a.message_zh : a.message_en) || a.message_en || ""),
    a.acknowledged_by ? h("p", { class: "muted" }, t("alerts.ack_info", { who: a.acknowledged_by, ago: fmtAgo(a.acknowledged_at) })) : null,
    st === "shelved" ? h("p", {}, t("alerts.shelved_info", { who: a.shelved_by || "", until: fmtDate(a.shelved_until), reason: a.shelve_reason || "" })) : null,
    st === "resolved" ? h("p", {}, t("alerts.resolved_info", { who: a.resolved_by || "", outcome: label("outcome", a.outcome) })) : null,
    ctx.hasRole("operator") ? actions(a, run) : h("p", { class: "muted" }, t("alerts.not_allowed")),
    status,
    rationale(a),
    a.top_factors.length ? h("div", {}, h("h2", {}, t("alerts.factors")), h("table", {}, h("tbody", {},
      a.top_factors.slice(0, 5).map((factor) => h("tr", {}, h("td", {}, signalLabel(factor.feature).text),
        h("td", {}, rangedValue(factor.value, factor.normal_low, factor.normal_high))))))) : null,
    comments.length ? h("div", {}, h("h2", {}, t("alerts.comments")), h("ul", { id: "alert-comments" }, comments.map((c) =>
      h("li", {}, h("span", { class: "num" }, fmtDate(c.ts)), ` · ${c.author}: `, c.text)))) : null,
    auditList(audit));
}
