import { api, auth } from "../api.js";
import { ago, badge, bytes, h, problemText } from "../dom.js";

export function mount(root) {
  const body = h("tbody");
  const notice = h("p", { class: "error", role: "alert", "data-testid": "notice" });
  let hosts = [];
  root.replaceChildren(
    h("h1", {}, "Hosts"), notice,
    h("table", { class: "grid", "data-testid": "hosts" },
      h("thead", {}, h("tr", {}, ["Name", "State", "Heartbeat", "Containers", "CPUs", "Memory",
        "Engine", "Last error", ""].map((t) => h("th", {}, t)))), body));

  function render() {
    const canAdmin = auth.may("admin");
    body.replaceChildren(...hosts.map((host) => h("tr", { "data-testid": `host-${host.name}` },
      h("td", {}, host.name, h("div", { class: "muted mono" }, host.url)),
      h("td", {}, badge(host.state, "host-state")),
      h("td", { "data-testid": "heartbeat" }, ago(host.last_heartbeat_at)),
      h("td", {}, host.containers),
      h("td", {}, host.cpus ?? "?"),
      h("td", {}, bytes(host.memory_bytes)),
      h("td", {}, host.engine_version || ""),
      h("td", { class: "message" }, host.last_error || ""),
      h("td", {}, canAdmin ? h("button", {
        type: "button", "data-testid": host.schedulable ? "drain" : "uncordon",
        onclick: () => setSchedulable(host.name, !host.schedulable),
      }, host.schedulable ? "Drain" : "Uncordon") : null))));
    if (!hosts.length) body.append(h("tr", {}, h("td", { colspan: 9, class: "muted" }, "No hosts.")));
  }

  async function setSchedulable(name, schedulable) {
    notice.textContent = "";
    try {
      await api(`/v1/hosts/${name}`, { method: "PATCH", body: { schedulable } });
      await refresh();
    } catch (err) {
      notice.textContent = problemText(err);
    }
  }

  async function refresh() {
    try {
      hosts = (await api("/v1/hosts?limit=500")).items;
      render();
    } catch (err) {
      notice.textContent = problemText(err);
    }
  }

  refresh();
  // Hosts have no event stream: their heartbeats are read again every few seconds, and
  // the ages tick in between.
  const poll = setInterval(() => { if (!document.hidden) refresh(); }, 3000);
  const tick = setInterval(render, 1000);
  return () => { clearInterval(poll); clearInterval(tick); };
}
