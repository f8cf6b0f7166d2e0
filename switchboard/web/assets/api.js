// The admin key (kept in this tab's sessionStorage) and the JSON calls that send it.

const STORAGE = "switchboard.adminKey";

export class AuthError extends Error {}

export function savedKey() {
  return sessionStorage.getItem(STORAGE) || "";
}

export function saveKey(key) {
  if (key) sessionStorage.setItem(STORAGE, key);
  else sessionStorage.removeItem(STORAGE);
}

export function bearer(key) {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// GET a JSON route with the admin key; AuthError on 401/403, Error with the envelope's message otherwise.
export async function getJson(path) {
  const resp = await fetch(path, { headers: bearer(savedKey()), cache: "no-store" });
  if (resp.status === 401 || resp.status === 403) throw new AuthError(await errorText(resp));
  if (!resp.ok) throw new Error(await errorText(resp));
  return resp.json();
}

export async function errorText(resp) {
  try {
    const body = await resp.json();
    return (body.error && body.error.message) || `HTTP ${resp.status}`;
  } catch {
    return `HTTP ${resp.status}`;
  }
}
