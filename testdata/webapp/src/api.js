// REST calls to the feed back end, the way the Node app's front end makes
// them: fetch, JSON bodies, FormData for posts, `Authorization: Bearer`.

// The back end's address. The Node app's front end hard-codes
// http://localhost:8080; here `?api=http://host:port` overrides it, so one
// build runs against a server on any port.
export const API = (new URLSearchParams(window.location.search).get('api') || 'http://localhost:8080').replace(/\/+$/, '');

// request calls the API and resolves with the decoded JSON body, or
// rejects with an Error carrying the server's message and status. A
// request the browser blocks (CORS) rejects with status 0.
export async function request(path, { method = 'GET', token, json, form } = {}) {
  const headers = {};
  let body;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form; // the browser sets multipart/form-data with its boundary
  }
  let res;
  try {
    res = await fetch(API + path, { method, headers, body });
  } catch (err) {
    throw Object.assign(new Error(`Could not reach the server (${err.message}).`), { status: 0 });
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw Object.assign(new Error(data.message || `Request failed with status ${res.status}.`), {
      status: res.status,
      data: data.data || [],
    });
  }
  return data;
}

// imageSrc is where the page shows a post's image from.
export function imageSrc(imageUrl) {
  return `${API}/${imageUrl}`;
}
