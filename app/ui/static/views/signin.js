import { api, auth } from "../api.js";
import { h, problemText } from "../dom.js";

export function mount(root, done) {
  const input = h("input", { type: "password", id: "token", name: "token", required: true,
                             autocomplete: "off", placeholder: "mrg_…", "data-testid": "token" });
  const error = h("p", { class: "error", role: "alert", "data-testid": "signin-error" });
  const form = h("form", { class: "card signin", "data-testid": "signin" },
    h("h1", {}, "Sign in"),
    h("label", { for: "token" }, "API token"),
    input,
    h("p", { class: "muted" },
      "A token from `moorage token create`. It is kept in this tab only (sessionStorage)."),
    error,
    h("button", { type: "submit", "data-testid": "signin-submit" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const token = input.value.trim();
    try {
      const identity = await api("/v1/whoami", { token });
      auth.signIn(token, identity);
      done();
    } catch (err) {
      error.textContent = err.status === 401 ? "That token is not valid." : problemText(err);
    }
  });
  root.replaceChildren(form);
  input.focus();
}
