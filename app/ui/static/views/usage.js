// A deployment's CPU and memory over the samples kept (GET …/usage), as two small inline
// SVG charts built with DOM calls: no library, no markup from strings, and no style
// attributes (the page's CSP allows none), so every colour and size is in style.css.
import { api } from "../api.js";
import { ago, bytes, h, problemText } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 300;
const H = 60;
const PAD = 3; // keeps the stroke and the newest point's dot inside the box

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  return el;
}

const METRICS = [
  // A floor for the scale, so an idle deployment's noise is not drawn as a full-height spike.
  { id: "cpu", key: "cpu_percent", label: "CPU", floor: 5, text: (v) => `${v.toFixed(1)}%` },
  { id: "memory", key: "memory_bytes", label: "Memory", floor: 2 ** 20, text: bytes },
];

// The x axis runs from the oldest sample kept (at most `windowS` back) to now, so a new
// deployment's first minute fills the chart rather than a sliver at its right edge.
function chart(metric, points, windowS, now) {
  const values = points.map((p) => p[metric.key] ?? 0);
  const top = Math.max(metric.floor, ...values);
  const since = Math.max(Date.parse(points[0].at), now - windowS * 1000);
  const spanMs = Math.max(1000, now - since);
  const xy = points.map((p, i) => {
    const share = Math.min(1, Math.max(0, (Date.parse(p.at) - since) / spanMs));
    return [PAD + share * (W - 2 * PAD), H - PAD - (values[i] / top) * (H - 2 * PAD)];
  });
  const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  const [lastX, lastY] = xy.at(-1);
  const base = (H - PAD).toFixed(1);
  const span = spanMs >= 120_000 ? `${Math.round(spanMs / 60_000)} min` : `${Math.round(spanMs / 1000)} s`;
  const el = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "data-points": points.length,
                          "data-testid": `usage-${metric.id}-chart`,
                          "aria-label": `${metric.label} over the last ${span}` });
  el.append(
    svg("rect", { class: "frame", x: 0.5, y: 0.5, width: W - 1, height: H - 1 }),
    svg("polygon", { class: "area",
                     points: `${xy[0][0].toFixed(1)},${base} ${line} ${lastX.toFixed(1)},${base}` }),
    svg("polyline", { class: "line", points: line }),
    svg("circle", { class: "dot", cx: lastX.toFixed(1), cy: lastY.toFixed(1), r: 2.5 }));
  const title = svg("title");
  title.textContent = `${metric.label}: peak ${metric.text(Math.max(...values))}`;
  el.append(title);
  return el;
}

// Mounts the charts into `root`, reads them again every sampling interval while the tab
// is shown, and returns the cleanup.
export function mount(root, path) {
  let timer = null;
  let stopped = false;
  let interval = 10;

  function render(usage) {
    const { points } = usage;
    if (!points.length) {
      root.replaceChildren(h("p", { class: "muted", "data-testid": "usage-empty" }, "no samples yet"));
      return;
    }
    const last = points.at(-1);
    root.replaceChildren(...METRICS.map((m) => h("figure", { class: "chart" },
      chart(m, points, usage.retention_s, Date.now()),
      h("figcaption", {},
        h("span", { class: "muted" }, m.label), " ",
        h("strong", { "data-testid": `usage-${m.id}` }, m.text(last[m.key] ?? 0)), " ",
        h("span", { class: "muted" },
          `${last.replicas} replica${last.replicas === 1 ? "" : "s"}, ${ago(last.at)}`)))));
  }

  async function load() {
    try {
      if (!document.hidden) {
        const usage = await api(`${path}/usage`);
        interval = usage.interval_s;
        render(usage);
      }
    } catch (err) {
      if (err.status === 404) return; // the deployment is gone: the page says so
      root.replaceChildren(h("p", { class: "error" }, problemText(err)));
    }
    if (!stopped) timer = setTimeout(load, Math.max(1, interval) * 1000);
  }

  load();
  return () => { stopped = true; clearTimeout(timer); };
}
