// The service worker, served at /sw.js with scope / (server/web/controllers/offline.py
// writes the release in). It caches the app shell and, from /api/v1/offline, every form page and
// rules document the enumerator may fill, and the forms' media files (keyed by content hash), so after one visit online the forms open with no network.
// Pages go to the network first and fall back to the cache; the hashed assets and rules come from the
// cache first. Everything is stored gzipped. The drafts and the outbox live in IndexedDB, which a new release never touches: an
// update only swaps this cache for the next one.
const RELEASE = '__RELEASE__';
const CACHE = 'pantau-' + RELEASE;
const PAGE_TIMEOUT_MS = 6000; // a page that has not answered by then comes from the cache
// Besides the fill pages, the only pages kept: the phone's own and those its header links to.
const KEPT = ['/', '/draf', '/terkirim', '/akun'];

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

// A page asks once a person has signed in: every form they may fill, not only those opened so far.
self.addEventListener('message', (event) => {
  if (event.data === 'precache') event.waitUntil(precache());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.indexOf('pantau-') === 0 && n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

// The phone's storage is small and shared: what is cached is kept gzipped (CompressionStream),
// a quarter of the bytes, and unpacked as it is served.
const PACKED = 'x-pantau-gzip';

function store(key, response) {
  if (!response.ok || response.type !== 'basic' || response.redirected) return Promise.resolve();
  const headers = new Headers({ 'content-type': response.headers.get('content-type') || 'text/html' });
  let body = response.body;
  if (self.CompressionStream && body) {
    body = body.pipeThrough(new CompressionStream('gzip'));
    headers.set(PACKED, '1');
  }
  return new Response(body, { status: 200, headers: headers }).blob()
    .then((blob) => caches.open(CACHE).then((cache) => cache.put(key, new Response(blob, { headers: headers }))));
}

function unpack(cached) {
  if (!cached || !cached.headers.get(PACKED)) return cached;
  const headers = new Headers({ 'content-type': cached.headers.get('content-type') });
  return new Response(cached.body.pipeThrough(new DecompressionStream('gzip')), { status: 200, headers: headers });
}

// Not signed in (or the manifest unreachable): install anyway and cache what is visited.
async function precache() {
  let manifest = null;
  try {
    const r = await fetch('/api/v1/offline', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    manifest = r.ok ? await r.json() : null;
  } catch (e) {
    manifest = null;
  }
  if (!manifest) return;
  const urls = manifest.shell.concat(manifest.rules, manifest.pages, manifest.media || []);
  await Promise.all(urls.map((url) => fetchWithin(url, PRECACHE_TIMEOUT_MS, (r) => store(url, r)).catch(() => null)));
}

// A release installs only when its precache has settled: one request that never finishes (a stalled
// connection upriver) would keep the phone on the old release. Each file gets this long, its body
// included; one that misses it is cached later, when visited.
const PRECACHE_TIMEOUT_MS = 20000;

function fetchWithin(url, ms, use) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  return fetch(url, { credentials: 'same-origin', redirect: 'manual', signal: abort.signal })
    .then(use)
    .finally(() => clearTimeout(timer));
}

// The key a page is cached under: its path, the version when not the newest, English when asked.
function pageKey(url) {
  const v = url.searchParams.get('v'), en = url.searchParams.get('lang') === 'en', params = [];
  if (v && url.pathname.indexOf('/f/') === 0) params.push('v=' + encodeURIComponent(v));
  if (en) params.push('lang=en');
  return url.pathname + (params.length ? '?' + params.join('&') : '');
}

function uuid() {
  if (self.crypto.randomUUID) return self.crypto.randomUUID();
  const b = self.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const h = Array.from(b).map((x) => (x < 16 ? '0' : '') + x.toString(16)).join('');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
}

// A cached fill page carries the instance id it was rendered with: every opening gets a new one, or
// two forms filled offline would be one record.
function freshPage(html) {
  const found = /name="_id" value="([0-9a-f-]{36})"/.exec(html);
  const body = found ? html.split(found[1]).join(uuid()) : html;
  return new Response(body, { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
}

// A draft names its version (?v=); the newest version is cached without it. Resolves with the page's
// HTML, or null when no cached page is of that version.
async function cachedForm(url) {
  const v = url.searchParams.get('v'), exact = unpack(await caches.match(pageKey(url)));
  if (exact) return exact.text();
  if (!v) return null;
  const bare = new URL(url.href);
  bare.searchParams.delete('v');
  const newest = unpack(await caches.match(pageKey(bare)));
  const html = newest ? await newest.text() : '';
  return html.indexOf('name="_versi" value="' + v + '"') >= 0 ? html : null;
}

function offlinePage() {
  const html = '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
    + '<title>Pantau</title><p>Tidak ada sinyal dan halaman ini belum tersimpan di HP. '
    + '<a href="/draf">Draf</a> · <a href="/terkirim">Terkirim</a></p>'
    + '<p lang="en">No signal, and this page is not saved on this phone.</p>';
  return new Response(html, { status: 503, headers: { 'content-type': 'text/html; charset=utf-8' } });
}

// Signing in needs the server: without a signal the sign-in page says so, and where the data is.
function signInOffline() {
  const html = '<!doctype html><html lang="id"><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
    + '<title>Masuk · Pantau</title><h1>Masuk</h1><p>Masuk perlu sinyal. Data yang sudah di HP tetap aman: '
    + '<a href="/draf">Draf</a> · <a href="/terkirim">Kotak keluar</a> · <a href="/">Formulir</a></p>'
    + '<p lang="en">Signing in needs a signal. What is on this phone is safe.</p></html>';
  return new Response(html, { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then((r) => { clearTimeout(t); resolve(r); }, (e) => { clearTimeout(t); reject(e); });
  });
}

async function navigate(request) {
  const url = new URL(request.url), key = pageKey(url), isForm = url.pathname.indexOf('/f/') === 0;
  try {
    const response = await withTimeout(fetch(request), PAGE_TIMEOUT_MS);
    if (isForm || KEPT.indexOf(url.pathname) >= 0) store(key, response.clone()).catch(() => null);
    return response;
  } catch (e) {
    if (url.pathname === '/masuk') return signInOffline();
    if (isForm) {
      const html = await cachedForm(url);
      return html === null ? offlinePage() : freshPage(html);
    }
    return unpack(await caches.match(key)) || offlinePage();
  }
}

async function fromCache(request) {
  const cached = await caches.match(request);
  if (cached) return unpack(cached);
  const response = await fetch(request);
  store(request.url, response.clone()).catch(() => null);
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request, url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.indexOf('/api/') === 0) return;
  if (request.mode === 'navigate') {
    // Only the phone's pages: staff pages, exports and reports go to the network untouched (a slow
    // export must never be cut short by the page timeout).
    if (/^\/f\/[^/]+$/.test(url.pathname) || KEPT.indexOf(url.pathname) >= 0 || url.pathname === '/masuk') {
      event.respondWith(navigate(request));
    }
  } else if (url.pathname.indexOf('/aset/') === 0 || url.pathname.indexOf('/static/') === 0 || /^\/f\/[^/]+\/(aturan$|media\/)/.test(url.pathname)) {
    event.respondWith(fromCache(request));
  }
});
