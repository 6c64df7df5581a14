// The outbox's rules, pure so node --test runs them (tests/js/outbox.test.js): what a
// server answer means for an item, when to try again, and which item goes next. offline.js keeps
// the items in IndexedDB and does the requests; nothing here touches the DOM, the network or storage.
// An item: { id (the instance id), body, photos: [sha256], state, attempts, next, created, ... }.
// States: saved (on this phone, waiting), sending, sent (the server's receipt kept), attention (the
// server refused it: a 409 or a validation error, with the message).

export const STATES = ['saved', 'sending', 'sent', 'attention'];
// Waits between attempts after a network failure or a 5xx, in ms; the last repeats.
export const BACKOFF = [1000, 2000, 5000, 10000, 20000, 30000];
// A sign-in that expired is asked again at most this often (the enumerator signs in in another tab).
export const SIGNIN_RECHECK = 15000;

export function backoff(attempts, rand) {
  const base = BACKOFF[Math.min(attempts, BACKOFF.length - 1)];
  return Math.round(base * (0.75 + 0.5 * (rand === undefined ? Math.random() : rand)));
}

// status: the HTTP status (0: no answer at all); signinPage: the request was sent to /masuk; code:
// the problem's code when the server answered one. Only a 401 means the session ended; a 403 is the
// server refusing this item (submission.outside_area), shown at the item and not sent again, except
// a CSRF refusal (http.csrf) or a 403 without a problem (a proxy's), which are the session's doing.
export function classify(status, signinPage, code) {
  if (signinPage || status === 401) return 'signin';
  if (status === 403) return !code || code === 'http.csrf' ? 'signin' : 'attention';
  if (status === 200 || status === 201) return 'ok';
  if (status === 0 || status === 408 || status === 429 || status >= 500) return 'retry';
  return 'attention'; // 400, 403, 404, 409, 413, 415, 422: sending it again would get the same answer
}

// The item after one attempt; outcome is classify()'s word, answer the server's JSON.
export function after(item, outcome, answer, now, rand) {
  const out = Object.assign({}, item, { updated: now, signin: false });
  if (outcome === 'ok') return Object.assign(out, { state: 'sent', receipt: answer, attempts: 0, next: 0, message: '' });
  if (outcome === 'attention') return Object.assign(out, { state: 'attention', answer: answer, next: 0 });
  if (outcome === 'signin') return Object.assign(out, { state: 'saved', signin: true, next: now + SIGNIN_RECHECK });
  const attempts = (item.attempts || 0) + 1;
  return Object.assign(out, { state: 'saved', attempts: attempts, next: now + backoff(attempts - 1, rand) });
}

// A 'sending' item whose page closed mid-request is waiting again: the instance id makes the
// resend harmless (the server answers the first receipt).
export function waiting(item) {
  return item.state === 'saved' || item.state === 'sending';
}

// A phone shared by two enumerators: an item goes out only under the session of who filled it (me:
// the user signed in now, '' when unknown), or it would be filed under the wrong name.
export function mine(item, me) {
  return !item.user || !me || item.user === me;
}

// The items to send now, oldest first.
export function due(items, now, me) {
  return items.filter((i) => waiting(i) && mine(i, me) && (i.next || 0) <= now).sort((a, b) => a.created - b.created);
}

// Milliseconds until the next item falls due, or -1 when nothing waits.
export function wake(items, now, me) {
  const times = items.filter((i) => waiting(i) && mine(i, me)).map((i) => Math.max(0, (i.next || 0) - now));
  return times.length ? Math.min.apply(null, times) : -1;
}

// Every photo an answers dict names (image fields hold the sha256 of the bytes), inside repeats too.
export function photosOf(answers) {
  const found = [];
  const visit = (v) => {
    if (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) { if (found.indexOf(v) < 0) found.push(v); }
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.keys(v).forEach((k) => visit(v[k]));
  };
  visit(answers);
  return found;
}

// A new or corrected submission into the outbox. The same instance id again (a correction, or the
// form sent again after a 409/422) replaces the item, with a fresh attempt count.
export function enqueue(body, meta, now) {
  return Object.assign({ title: '', url: '', fields: [], user: '' }, meta, {
    id: body.instance_id, body: body, photos: photosOf(body.answers), state: 'saved', attempts: 0, next: 0,
    created: now, updated: now, signin: false, receipt: null, answer: null,
  });
}

// Sent items are kept a while to compare with the server's list, then dropped.
export const KEEP_SENT_MS = 30 * 24 * 3600 * 1000;
export function expired(item, now) {
  return item.state === 'sent' && now - (item.updated || 0) > KEEP_SENT_MS;
}

// The file staff import (server/web/offline_context.OutboxFile): unsent items with their photos.
export function exportDoc(user, items, photos, now) {
  const unsent = items.filter((i) => i.state !== 'sent');
  const wanted = {};
  unsent.forEach((i) => i.photos.forEach((sha) => { if (photos[sha]) wanted[sha] = photos[sha]; }));
  return {
    format: 'pantau-outbox', version: 1, user: user, exported_at: new Date(now).toISOString(),
    items: unsent.map((i) => i.body), photos: wanted,
  };
}
