// The dashboard: a hash router over a few views. Each view mounts into <main>, keeps
// itself current from the API's event streams, and returns its own cleanup.

import { api, auth } from "./api.js";
import { h } from "./dom.js";
import * as deployment from "./views/deployment.js";
import * as deployments from "./views/deployments.js";
import * as events from "./views/events.js";
import * as hosts from "./views/hosts.js";
import * as signin from "./views/signin.js";

const routes = [
  [/^#\/deployments\/([a-z0-9-]+)$/, deployment, "deployments"],
  [/^#\/deployments$/, deployments, "deployments"],
  [/^#\/hosts$/, hosts, "hosts"],
  [/^#\/events$/, events, "events"],
];

const view = document.getElementById("view");
let cleanup = () => {};

function showChrome() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  nav.hidden = !auth.identity;
  who.replaceChildren();
  if (auth.identity) {
    who.append(
      h("span", { "data-testid": "identity" },
        `${auth.identity.name} (${auth.identity.allows.at(-1)})`),
      h("button", { type: "button", class: "link", "data-testid": "sign-out",
                    onclick: () => auth.signOut() }, "Sign out"),
    );
  }
}

function route() {
  cleanup();
  cleanup = () => {};
  showChrome();
  if (!auth.identity) {
    cleanup = signin.mount(view, () => {
      if (!location.hash || location.hash === "#/signin") location.hash = "#/deployments";
      else route();
    }) || cleanup;
    return;
  }
  const hash = location.hash || "#/deployments";
  for (const [pattern, page, section] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    for (const a of document.querySelectorAll("#nav a[data-page]")) {
      a.classList.toggle("active", a.dataset.page === section);
    }
    cleanup = page.mount(view, ...match.slice(1)) || cleanup;
    return;
  }
  location.hash = "#/deployments";
}

async function start() {
  if (auth.token) {
    try {
      auth.identity = await api("/v1/whoami");
    } catch {
      auth.identity = null; // an expired or revoked token: sign in again
    }
  }
  auth.onSignOut(route);
  window.addEventListener("hashchange", route);
  route();
}

start();
