// Login: user name + password -> bearer token (POST /auth/login).
import { api, setToken } from "../api.js";
import { errorBox, fill, h } from "../dom.js";
import { t } from "../i18n.js";

export const name = "login";

export async function render(root, _params, ctx) {
  const msg = h("div", { id: "login-error", "aria-live": "assertive" });
  const user = h("input", { id: "login-user", name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "panel", onsubmit: async (ev) => {
    ev.preventDefault();
    fill(msg);
    try {
      const res = await api("POST", "/auth/login", { username: user.value.trim(), password: pass.value });
      setToken(res.access_token);
      await ctx.onLogin();
    } catch (exc) {
      fill(msg, errorBox(t("login.failed", { msg: exc.message })));
    }
  } },
  h("h1", {}, t("login.title")),
  h("label", {}, t("login.user"), user),
  h("label", {}, t("login.password"), pass),
  h("button", { type: "submit", id: "login-submit" }, t("login.submit")),
  msg,
  h("p", { class: "muted" }, t("login.hint")));
  fill(root, h("div", { class: "login" }, form));
  user.focus();
}
