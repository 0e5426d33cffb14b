// Building the page from data without innerHTML: text is always text, never markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// A link only for http(s) addresses: a value from the API must never become javascript:.
export function safeLink(url, text = url) {
  try {
    const parsed = new URL(url, location.href);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") {
      return h("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer" }, text);
    }
  } catch { /* not a URL: shown as text */ }
  return h("span", {}, text);
}

export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

export function bytes(n) {
  if (n == null) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function badge(value, testid) {
  return h("span", { class: `badge badge-${value}`, "data-testid": testid }, value);
}

// Collapse a burst of calls into one, `ms` after the last.
export function debounce(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

export function problemText(err) {
  const p = err.problem || {};
  const fields = (p.errors || []).map((e) => `${(e.loc || []).join(".")}: ${e.msg}`);
  return [p.title || err.message, p.detail, ...fields].filter(Boolean).join(" — ");
}

// Rows kept across refreshes by key: a row is rebuilt only when its key (all it shows,
// ages aside) changes, so a button or link is never swapped out from under the pointer
// (a click needs mousedown and mouseup on the same node) by a refresh that changed
// nothing. Cells made with `agoCell` tick in place. Returns the rows, in the items' order.
export function keyedRows(parent, items, keyOf, build, empty = null) {
  const old = new Map();
  for (const node of parent.children) if (node.dataset.key != null) old.set(node.dataset.key, node);
  const kept = items.map((item) => {
    const key = keyOf(item);
    const row = old.get(key) || build(item);
    row.dataset.key = key;
    old.delete(key);
    return row;
  });
  const rows = !kept.length && empty ? [empty()] : kept;
  for (const node of [...parent.children]) if (!rows.includes(node)) node.remove();
  rows.forEach((row, i) => {
    if (parent.children[i] !== row) parent.insertBefore(row, parent.children[i] || null);
  });
  tickAges(parent);
  return kept;
}

export function agoCell(iso, attrs = {}) {
  return h("td", { ...attrs, "data-ago": iso || "" }, ago(iso));
}

export function tickAges(root) {
  for (const cell of root.querySelectorAll("[data-ago]")) cell.textContent = ago(cell.dataset.ago || null);
}
