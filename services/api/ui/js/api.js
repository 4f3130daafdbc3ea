// REST client for /api/v1 with the bearer token, and the live stream (SSE read over fetch so
// the token travels in the Authorization header, never in a URL).

const BASE = "/api/v1";
const TOKEN_KEY = "lw.token";

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export const token = () => sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY);
export function setToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value); else localStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const h = { Accept: "application/json", ...extra };
  const tk = token();
  if (tk) h.Authorization = `Bearer ${tk}`;
  return h;
}

/** The API's error text: FastAPI's {detail: "..."} or a validation list, else the status. */
function errorText(status, body) {
  const d = body && body.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) return d.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
  if (body && typeof body.message === "string") return body.message;
  return `HTTP ${status}`;
}

/** Call the API; resolves with parsed JSON (or null), rejects with ApiError carrying the message. */
export async function api(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (exc) {
    throw new ApiError(0, String(exc.message || exc));
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!res.ok) {
    if (res.status === 401) window.dispatchEvent(new CustomEvent("lw:unauthorized"));
    throw new ApiError(res.status, errorText(res.status, data));
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);

/** Build a query string, dropping empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  Object.entries(params).forEach(([k, v]) => { if (v !== undefined && v !== null && v !== "") p.set(k, v); });
  const s = p.toString();
  return s ? `?${s}` : "";
}

/**
 * Follow GET /stream (Server-Sent Events). Calls onEvent(type, data) per event and onStatus(state)
 * with "live" | "reconnecting". Reconnects with backoff. Returns a function that stops it.
 */
export function openStream(onEvent, onStatus) {
  let stopped = false;
  let ctrl = null;
  let delay = 1000;
  async function once() {
    ctrl = new AbortController();
    const res = await fetch(`${BASE}/stream`, { headers: headers({ Accept: "text/event-stream" }), signal: ctrl.signal });
    if (!res.ok || !res.body) throw new ApiError(res.status, `stream HTTP ${res.status}`);
    onStatus("live");
    delay = 1000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value.replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        dispatch(buf.slice(0, cut), onEvent);
        buf = buf.slice(cut + 2);
      }
    }
  }
  (async () => {
    while (!stopped) {
      try { await once(); } catch (exc) { if (stopped) return; }
      if (stopped) return;
      onStatus("reconnecting");
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  })();
  return () => { stopped = true; if (ctrl) ctrl.abort(); };
}

function dispatch(block, onEvent) {
  let type = "message";
  const data = [];
  block.split("\n").forEach((line) => {
    if (line.startsWith(":")) return; // keep-alive comment
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "event") type = val;
    else if (field === "data") data.push(val);
  });
  if (!data.length) return;
  let parsed = data.join("\n");
  try { parsed = JSON.parse(parsed); } catch { /* plain text event */ }
  onEvent(type, parsed);
}
