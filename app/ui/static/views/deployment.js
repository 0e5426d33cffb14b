import { api, auth } from "../api.js";
import { ago, agoCell, badge, debounce, h, keyedRows, problemText, safeLink, time } from "../dom.js";
import { subscribe } from "../stream.js";
import { endpointLinks } from "./deployments.js";
import * as usage from "./usage.js";

const MAX_EVENTS = 200;

function bar(label, value, total, testid) {
  const pct = total ? Math.min(100, Math.round((100 * value) / total)) : 100;
  const fill = h("span", { class: "bar-fill" });
  fill.style.width = `${pct}%`; // CSSOM, not a style attribute: the page's CSP allows no inline styles
  return h("div", { class: "bar-row" },
    h("span", { class: "bar-label" }, label),
    h("span", { class: "bar" }, fill),
    h("span", { "data-testid": testid }, `${value}/${total}`));
}

function rolloutCard(r) {
  if (!r) return h("p", { class: "muted" }, "No rollout yet.");
  const active = r.state === "pending" || r.state === "in_progress";
  const from = r.from_revision ? `r${r.from_revision} → ` : "";
  return h("div", { class: `rollout ${active ? "active" : ""}`, "data-testid": "rollout" },
    h("p", {}, h("strong", {}, `${r.kind} ${from}r${r.to_revision}`), " ",
      badge(r.state, "rollout-state"), " ",
      h("span", { class: "muted" }, r.finished_at ? `finished ${ago(r.finished_at)}`
        : `started ${ago(r.started_at || r.created_at)}`)),
    bar("updated", r.progress.updated, r.progress.desired, "rollout-updated"),
    bar("ready", r.progress.ready, r.progress.desired, "rollout-ready"),
    r.message ? h("p", { class: "message" }, r.message) : null);
}

function ports(replica) {
  return replica.ports.filter((p) => p.host_port).map((p) => {
    const ip = !p.host_ip || p.host_ip === "0.0.0.0" ? location.hostname : p.host_ip;
    return safeLink(`http://${ip.includes(":") ? `[${ip}]` : ip}:${p.host_port}/`,
      `${ip}:${p.host_port}→${p.container_port}`);
  });
}

export function mount(root, name) {
  const path = `/v1/deployments/${name}`;
  const head = h("section");
  const rollout = h("section", { class: "card" });
  const charts = h("section", { class: "usage", "data-testid": "usage" });
  const replicas = h("tbody");
  const revisions = h("tbody");
  const eventList = h("ol", { class: "events", "data-testid": "events" });
  const notice = h("p", { class: "error", role: "alert", "data-testid": "notice" });
  const streamState = h("span", { class: "muted", "data-testid": "stream-state" });
  const logs = h("pre", { class: "logs", "data-testid": "logs" });
  let current = null;
  let seen = 0;
  let refreshes = 0;

  root.replaceChildren(
    h("p", {}, h("a", { href: "#/deployments" }, "← Deployments")),
    head, notice,
    h("h2", {}, "Rollout"), rollout,
    h("h2", {}, "Usage"), charts,
    h("h2", {}, "Replicas"),
    h("table", { class: "grid", "data-testid": "replicas" },
      h("thead", {}, h("tr", {}, ["Host", "Slot", "Container", "Revision", "State", "Health",
        "Last probe", "Ports", "Restarts"].map((t) => h("th", {}, t)))), replicas),
    h("h2", {}, "Revisions"),
    h("table", { class: "grid", "data-testid": "revisions" },
      h("thead", {}, h("tr", {}, ["Revision", "Image", "Made", ""].map((t) => h("th", {}, t)))),
      revisions),
    h("h2", {}, "Events ", streamState), eventList,
    h("h2", {}, "Logs ", h("button", { type: "button", class: "small", "data-testid": "logs-refresh",
                                     onclick: () => loadLogs() }, "Refresh")),
    logs);

  // The last lines of each replica, on request: a log stream is not kept open here.
  async function loadLogs() {
    try {
      const lines = await api(`${path}/logs?tail=50`);
      logs.textContent = lines.map((l) => `${l.replica} ${l.line}`).join("\n") || "(no output)";
    } catch (err) {
      logs.textContent = problemText(err);
    }
  }

  async function act(what, call) {
    notice.textContent = "";
    try {
      await call();
      refresh();
    } catch (err) {
      notice.textContent = `${what}: ${problemText(err)}`;
    }
  }

  // The controls are made once: a refresh must not take a button from under the pointer
  // or the number someone is typing from the box.
  const scale = h("input", { type: "number", min: "0", max: "1000", "data-testid": "scale-input",
                             "aria-label": "replicas", oninput: () => { scale.dataset.edited = "1"; } });
  const actions = h("div", { class: "actions", "data-testid": "deployment-actions" },
    scale,
    h("button", { type: "button", "data-testid": "scale", onclick: () => act("Scale", async () => {
      await api(path, { method: "PATCH", contentType: "application/merge-patch+json",
                        body: { replicas: Number(scale.value) } });
      delete scale.dataset.edited;
    }) }, "Scale"),
    h("button", { type: "button", "data-testid": "restart", onclick: () => act("Restart",
      () => api(`${path}/restart`, { method: "POST" })) }, "Restart"));
  const summary = h("div");
  head.append(summary);

  function renderHead(d) {
    summary.replaceChildren(
      h("h1", {}, d.name, " ", badge(d.status.phase, "phase")),
      h("dl", { class: "facts" },
        h("dt", {}, "Ready"), h("dd", { "data-testid": "ready" },
          `${d.status.ready_replicas}/${d.status.replicas}`),
        h("dt", {}, "Image"), h("dd", { class: "mono", "data-testid": "image" }, d.spec.image),
        h("dt", {}, "Revision"), h("dd", { "data-testid": "revision" }, `r${d.revision}`),
        d.endpoint ? [h("dt", {}, "Endpoint"), h("dd", {}, endpointLinks(d))] : null,
        d.status.message ? [h("dt", {}, "Status"), h("dd", {}, d.status.message)] : null));
    if (!scale.dataset.edited) scale.value = d.status.replicas;
    if (!auth.may("deploy")) actions.remove();
    else if (!actions.isConnected) head.append(actions);
  }

  function renderReplicas(items) {
    keyedRows(replicas, items, (r) => JSON.stringify(r), (r) => h("tr", { "data-testid": "replica" },
      h("td", {}, r.host), h("td", {}, r.slot),
      h("td", { class: "mono" }, r.container_name), h("td", {}, `r${r.revision}`),
      h("td", {}, badge(r.state, "replica-state")), h("td", {}, badge(r.health, "replica-health")),
      h("td", { class: "probe mono" }, r.last_probe || ""), h("td", {}, ports(r)),
      h("td", {}, r.restart_count)),
    () => h("tr", {}, h("td", { colspan: 9, class: "muted" }, "None")));
  }

  function renderRevisions(items, d) {
    const canDeploy = auth.may("deploy");
    const rollback = (r) => canDeploy && r.number !== d.revision;
    keyedRows(revisions, items.slice().reverse(),
      (r) => JSON.stringify([r.number, r.spec.image, r.number === d.revision, rollback(r)]),
      (r) => h("tr", { "data-testid": `revision-${r.number}` },
        h("td", {}, `r${r.number}`, r.number === d.revision ? " (current)" : ""),
        h("td", { class: "mono" }, r.spec.image),
        agoCell(r.created_at),
        h("td", {}, rollback(r) ? h("button", {
          type: "button", "data-testid": `rollback-${r.number}`,
          onclick: () => act("Roll back", () => api(`${path}/rollback`,
            { method: "POST", body: { revision: r.number } })),
        }, `Roll back to r${r.number}`) : null)));
  }

  async function refresh() {
    try {
      const [d, reps, revs] = await Promise.all([
        api(path), api(`${path}/replicas?limit=500`), api(`${path}/revisions?limit=500`)]);
      current = d;
      renderHead(d);
      rollout.replaceChildren(rolloutCard(d.current_rollout));
      renderReplicas(reps.items);
      renderRevisions(revs.items, d);
      head.dataset.refreshes = String(++refreshes); // for whoever waits on a refresh: tests
    } catch (err) {
      if (err.status === 404) {
        summary.replaceChildren(h("h1", {}, name), h("p", {}, "This deployment does not exist (any more)."));
        actions.remove();
      }
      else notice.textContent = problemText(err);
    }
  }

  function addEvent(e) {
    if (e.id <= seen) return; // a reconnect may repeat the tail
    seen = e.id;
    eventList.prepend(h("li", { class: e.type, "data-testid": "event" },
      h("time", { datetime: e.time }, time(e.time)), " ",
      h("strong", {}, e.reason), " ", e.message));
    while (eventList.childElementCount > MAX_EVENTS) eventList.lastElementChild.remove();
  }

  refresh();
  loadLogs();
  const later = debounce(refresh, 150);
  const stop = subscribe(`${path}/events?tail=30`, (e) => { addEvent(e); later(); }, (state) => {
    streamState.textContent = state === "live" ? "● live" : state;
  });
  // Health and probe output can change with no event: look again now and then.
  const timer = setInterval(() => { if (!document.hidden && current) refresh(); }, 5000);
  const stopCharts = usage.mount(charts, path);
  return () => { stop(); clearInterval(timer); stopCharts(); };
}
