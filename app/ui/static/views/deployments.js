import { api } from "../api.js";
import { badge, debounce, h, keyedRows, problemText, safeLink } from "../dom.js";
import { subscribe } from "../stream.js";

export function endpointLinks(d) {
  const urls = (d.endpoint && d.endpoint.urls) || [];
  return urls.map((url) => safeLink(url));
}

export function mount(root) {
  const body = h("tbody");
  const status = h("p", { class: "muted", "data-testid": "list-status" });
  root.replaceChildren(
    h("h1", {}, "Deployments"),
    h("table", { class: "grid", "data-testid": "deployments" },
      h("thead", {}, h("tr", {}, ["Name", "Phase", "Ready", "Image", "Revision", "Endpoint"]
        .map((t) => h("th", {}, t)))),
      body),
    status);

  async function refresh() {
    try {
      const page = await api("/v1/deployments?limit=500");
      const shown = (d) => [d.name, d.status.phase, d.status.ready_replicas, d.status.replicas,
        d.spec.image, d.revision, (d.endpoint && d.endpoint.urls) || []];
      keyedRows(body, page.items, (d) => JSON.stringify(shown(d)), (d) => h("tr", { "data-testid": `deployment-${d.name}` },
        h("td", {}, h("a", { href: `#/deployments/${d.name}` }, d.name)),
        h("td", {}, badge(d.status.phase, "phase")),
        h("td", { "data-testid": "ready" }, `${d.status.ready_replicas}/${d.status.replicas}`),
        h("td", { class: "mono" }, d.spec.image),
        h("td", {}, `r${d.revision}`),
        h("td", {}, endpointLinks(d))));
      status.textContent = page.items.length ? "" : "No deployments yet.";
    } catch (err) {
      status.textContent = problemText(err);
    }
  }

  refresh();
  // Any deployment's event may change its row: refresh on each burst of events.
  const stop = subscribe("/v1/events?tail=0", debounce(refresh, 200));
  return stop;
}
