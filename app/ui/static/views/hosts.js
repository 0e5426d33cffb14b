import { api, auth } from "../api.js";
import { agoCell, badge, bytes, h, keyedRows, problemText, tickAges } from "../dom.js";

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
    const rows = keyedRows(body, hosts, ({ last_heartbeat_at: _beat, ...shown }) => JSON.stringify([shown, canAdmin]),
      (host) => h("tr", { "data-testid": `host-${host.name}` },
        h("td", {}, host.name, h("div", { class: "muted mono" }, host.url)),
        h("td", {}, badge(host.state, "host-state")),
        agoCell(host.last_heartbeat_at, { "data-testid": "heartbeat" }),
        h("td", {}, host.containers),
        h("td", {}, host.cpus ?? "?"),
        h("td", {}, bytes(host.memory_bytes)),
        h("td", {}, host.engine_version || ""),
        h("td", { class: "message", "data-testid": "host-error" }, host.last_error || "",
          host.edge_error ? h("div", {}, `edge: ${host.edge_error}`) : null),
        h("td", {}, canAdmin ? h("button", {
          type: "button", "data-testid": host.schedulable ? "drain" : "uncordon",
          onclick: () => setSchedulable(host.name, !host.schedulable),
        }, host.schedulable ? "Drain" : "Uncordon") : null)),
      () => h("tr", {}, h("td", { colspan: 9, class: "muted" }, "No hosts.")));
    // The heartbeat's age is not in the key: it changes each poll, the row need not.
    rows.forEach((row, i) => { row.querySelector("[data-ago]").dataset.ago = hosts[i].last_heartbeat_at || ""; });
    tickAges(body);
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
  const tick = setInterval(() => tickAges(body), 1000);
  return () => { clearInterval(poll); clearInterval(tick); };
}
