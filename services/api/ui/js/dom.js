// A tiny element builder: h("div", {class: "x", onclick: fn}, child, "text", [more]).
// Text is always set as text (never innerHTML), so API strings cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A message box for a failed request: the API's own words, never a stack trace. */
export function errorBox(message) {
  return h("div", { class: "error-box", role: "alert" }, message);
}

// Run fn at most once per `ms`, trailing: calls in between collapse into one. The live stream
// delivers every score (hundreds a second on a fast simulated line); redrawing per event would
// keep the page's main thread busy and the tiles never still.
export function coalesce(fn, ms) {
  let timer = null;
  let last = 0;
  const run = () => { timer = null; last = Date.now(); fn(); };
  const call = () => {
    if (timer) return;
    timer = setTimeout(run, Math.max(0, last + ms - Date.now()));
  };
  call.cancel = () => { clearTimeout(timer); timer = null; };
  return call;
}
