// Every call goes to the same /v1 API as any client, with the token signed in with.
// The token lives in sessionStorage (gone when the tab closes) and only ever travels in
// the Authorization header: never in a URL, so never in access logs or history.

const TOKEN = "moorage.token";
const listeners = new Set();

export const auth = {
  get token() { return sessionStorage.getItem(TOKEN); },
  identity: null,
  signIn(token, identity) { sessionStorage.setItem(TOKEN, token); this.identity = identity; },
  signOut() {
    sessionStorage.removeItem(TOKEN);
    this.identity = null;
    for (const fn of listeners) fn();
  },
  onSignOut(fn) { listeners.add(fn); },
  // What the token may do, as the API says (GET /v1/whoami): buttons follow it.
  may(scope) { return Boolean(this.identity && this.identity.allows.includes(scope)); },
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function headers(token = auth.token, extra = {}) {
  return { Accept: "application/json", Authorization: `Bearer ${token}`, ...extra };
}

export async function api(path, { method = "GET", body, token, contentType } = {}) {
  const init = { method, headers: headers(token ?? auth.token), cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = contentType || "application/json";
    init.body = JSON.stringify(body);
  }
  if (method === "POST") init.headers["Idempotency-Key"] = randomKey();
  const response = await fetch(path, init);
  if (response.status === 401 && token === undefined) auth.signOut();
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ title: response.statusText }));
    throw new ApiError(response.status, problem);
  }
  return response.status === 204 ? null : response.json();
}

// crypto.randomUUID needs a secure context; a Moorage on plain http elsewhere is not one.
function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
