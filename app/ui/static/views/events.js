import { h, time } from "../dom.js";
import { subscribe } from "../stream.js";

const MAX_EVENTS = 500;

export function mount(root) {
  const list = h("ol", { class: "events", "data-testid": "events" });
  const state = h("span", { class: "muted", "data-testid": "stream-state" });
  let seen = 0;
  root.replaceChildren(h("h1", {}, "Events ", state), list);
  return subscribe("/v1/events?tail=100", (e) => {
    if (e.id <= seen) return;
    seen = e.id;
    list.prepend(h("li", { class: e.type, "data-testid": "event" },
      h("time", { datetime: e.time }, time(e.time)), " ",
      h("a", { href: `#/deployments/${e.deployment}` }, e.deployment), " ",
      h("strong", {}, e.reason), " ", e.message));
    while (list.childElementCount > MAX_EVENTS) list.lastElementChild.remove();
  }, (s) => { state.textContent = s === "live" ? "● live" : s; });
}
