// Offline first: drafts, photos and the outbox in IndexedDB (through the vendored idb),
// the sync that sends them one at a time, the service worker's registration, and the phone's Draf and
// Terkirim pages. form.js loads this lazily (after the form works), so the first visit stays light.
// The rules of the outbox live in outbox-core.js; this file does the storage, requests and DOM.
import { openDB } from '../vendor/idb.js';
import { csrf, make } from './dom.js';
import * as core from './outbox-core.js';

const doc = document;
const EN = doc.documentElement.lang === 'en';
// Indonesian first; this module shows these itself.
const TEXTS = {
  saved: ['Tersimpan di HP', 'Saved on this phone'], sending: ['Mengirim…', 'Sending…'],
  sent: ['Diterima server', 'Received by the server'], attention: ['Ditolak', 'Refused'],
  drop: ['Hapus', 'Delete'],
  drop_ask: ['Hapus data ini dari HP? Server menolaknya, jadi data ini tidak akan terkirim, dan isiannya hilang.',
    'Delete this record from the phone? The server refused it, so it will never be sent, and its answers are lost.'],
  signin: ['Sesi berakhir. Data tetap di HP: masuk lagi, lalu data dikirim otomatis.',
    'Your session ended. The data stays on this phone: sign in again, then it is sent by itself.'],
  signin_link: ['Masuk lagi', 'Sign in again'],
  queued: ['Tersimpan di HP. Data dikirim otomatis saat ada sinyal.', 'Saved on this phone. It is sent by itself when there is signal.'],
  again: ['Isi formulir baru', 'Fill in a new form'], list: ['Lihat data di HP', 'See the data on this phone'],
  resume: ['Lanjutkan', 'Resume'], fix: ['Perbaiki', 'Fix'], discard: ['Buang', 'Discard'], none_drafts: ['Tidak ada draf.', 'No drafts.'],
  changed: ['diubah', 'changed'],
  receipt: ['revisi {r}, diterima {t}', 'revision {r}, received {t}'], attempts: ['percobaan ke-{n}', 'attempt {n}'],
  persist_no: ['Catatan: browser ini tidak menjamin penyimpanan permanen. Data tetap tersimpan di HP, tetapi browser boleh menghapusnya bila memori HP hampir penuh. Kirim data saat ada sinyal, atau simpan ke berkas di Kotak keluar. (Pesan ini hanya muncul sekali.)',
    'Note: this browser does not promise permanent storage. The data stays on this phone, but the browser may clear it when the phone is almost full. Send it when there is signal, or save it to a file on the Outbox page. (This message is shown once.)'],
  st_saved: ['Menunggu sinyal', 'Waiting for signal'], st_sending: ['Sedang dikirim', 'Sending'],
  st_sent: ['Diterima', 'Received'], none_unsent: ['Semua sudah terkirim.', 'Everything has been sent.'],
  none_sent: ['Belum ada yang terkirim dari HP ini.', 'Nothing has been sent from this phone yet.'],
  on_server: ['ada di server', 'on the server'], other: ['menunggu {u} masuk', 'waiting for {u} to sign in'], on_phone: ['di HP: {s}', 'on phone: {s}'],
};
const T = (k, p) => TEXTS[k][EN ? 1 : 0].replace(/\{(\w+)\}/g, (m, x) => (p && x in p ? p[x] : m));
export const text = T;

let dbp = null;
function db() {
  if (!dbp) {
    dbp = openDB('pantau', 1, {
      upgrade(d) {
        d.createObjectStore('drafts', { keyPath: 'id' });
        d.createObjectStore('outbox', { keyPath: 'id' });
        d.createObjectStore('photos', { keyPath: 'sha' });
      },
    });
  }
  return dbp;
}

// --- photos: kept by their sha256 until the server has them ---------------------------------------
async function sha256(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest)).map((b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
}

// Stored on the phone, then one try to upload it at once (awaited when wait is set: the editor's preview
// posts straight to the server); the outbox sends whatever this try did not.
// kind: audio, video or file (files.js): kept as chosen, uploaded with ?jenis=kind. Its first try's
// refusal (too large, not a recording) comes back at once, the file dropped: sending it later would
// get the same answer.
export async function keepPhoto(blob, wait, kind) {
  const sha = await sha256(blob), d = await db();
  if (!(await d.get('photos', sha))) await d.put('photos', { sha: sha, blob: blob, type: blob.type, kind: kind, up: false });
  const tried = sendPhotos({ photos: [sha] });
  if (wait || kind) {
    const r = await tried;
    if (kind && r[0] === 'attention') {
      await d.delete('photos', sha);
      throw new Error((r[1] && (EN ? r[1].detail : r[1].detail_id)) || r[0]);
    }
  }
  return sha;
}

export async function photoBlob(sha) {
  const p = await (await db()).get('photos', sha);
  return p ? p.blob : null;
}

// --- requests ------------------------------------------------------------------------------------------
// One request; the answer as [status, json]. 0 = no answer (offline, dropped, timed out); a redirect
// (to /masuk) is reported as a sign-in.
async function request(url, body, type) {
  const abort = new AbortController(), timer = setTimeout(() => abort.abort(), 120000);
  try {
    const r = await fetch(url, {
      method: 'POST', body: body, credentials: 'same-origin', redirect: 'manual', signal: abort.signal,
      headers: { 'content-type': type, accept: 'application/json', 'x-csrftoken': csrf() },
    });
    if (r.type === 'opaqueredirect' || r.redirected || /\/masuk/.test(r.url)) return [0, null, true];
    let json = null;
    try { json = await r.json(); } catch (e) { json = null; }
    return [r.status, json, false];
  } catch (e) {
    return [0, null, false];
  } finally {
    clearTimeout(timer);
  }
}

// Each photo of the item the server does not have yet, one request each; a dropped connection
// resumes with the photos not yet marked as uploaded.
const inflight = {}; // sha256 -> the upload under way: the photo's first try and the sync share it

function upload(p) {
  if (!inflight[p.sha]) {
    inflight[p.sha] = request('/api/v1/attachments' + (p.kind ? '?jenis=' + p.kind : ''), p.blob,
      p.type || (p.kind ? 'application/octet-stream' : 'image/jpeg'))
      .then((r) => { delete inflight[p.sha]; return r; });
  }
  return inflight[p.sha];
}

async function sendPhotos(item) {
  const d = await db();
  for (const sha of item.photos) {
    let p = await d.get('photos', sha);
    if (p && !p.up && inflight[sha]) { await inflight[sha]; p = await d.get('photos', sha); }
    if (!p || p.up) continue;
    const r = await upload(p);
    const outcome = core.classify(r[0], r[2], r[1] && r[1].code);
    if (outcome !== 'ok') return [outcome, r[1] ? Object.assign({ status: r[0] }, r[1]) : null];
    if (r[1] && r[1].sha256 !== sha) return ['attention', r[1]];
    p.up = true;
    await d.put('photos', p);
  }
  return ['ok', null];
}

async function sendItem(item) {
  const d = await db();
  await d.put('outbox', Object.assign({}, item, { state: 'sending', updated: Date.now() }));
  changed();
  let outcome = 'ok', answer = null;
  const photos = await sendPhotos(item);
  if (photos[0] !== 'ok') { outcome = photos[0]; answer = photos[1]; }
  else {
    const r = await request('/api/v1/submissions', JSON.stringify(item.body), 'application/json');
    outcome = core.classify(r[0], r[2], r[1] && r[1].code);
    answer = r[1] ? Object.assign({ status: r[0] }, r[1]) : null;
  }
  const done = core.after(item, outcome, answer, Date.now());
  await d.put('outbox', done);
  if (done.state === 'sent') await forget(d, done);
  changed();
  return done;
}

// After a receipt: the photos nobody else waits for leave the phone.
async function forget(d, item) {
  const others = (await d.getAll('outbox')).filter((i) => i.id !== item.id && i.state !== 'sent');
  for (const sha of item.photos) {
    if (!others.some((i) => i.photos.indexOf(sha) >= 0) && !(await draftsUse(d, sha))) await d.delete('photos', sha);
  }
}

async function draftsUse(d, sha) {
  return (await d.getAll('drafts')).some((x) => x.fields.some((f) => f[1] === sha));
}

// --- the sync: one item at a time, in one tab at a time ----------------------------------------------
let wakeTimer = 0, running = null;
const listeners = [];
function changed() { listeners.forEach((f) => f()); }

function exclusive(run) {
  return navigator.locks ? navigator.locks.request('pantau-outbox', run) : run();
}

// Who is signed in now, as the server says ('' when offline or signed out); remembered, so that an
// item filled offline names its enumerator.
let me = localStorage.getItem('pantau-user') || '', manifestNow = null;
async function whoami() {
  try {
    const r = await fetch('/api/v1/offline', { credentials: 'same-origin', redirect: 'manual', headers: { accept: 'application/json' } });
    const m = r.ok ? await r.json() : null;
    if (m && m.user) { me = m.user; manifestNow = m; localStorage.setItem('pantau-user', me); return me; }
  } catch (e) { /* offline: the sends below fail and wait */ }
  return '';
}

// Signed in and online: every form this person may fill goes into the worker's cache (not only the
// ones opened so far), once per person and release, and the beneficiaries their forms pick from are
// brought up to date in the background, at most every few minutes.
const SLICE_EVERY_MS = 5 * 60 * 1000;
function keepForOffline(who) {
  const m = manifestNow;
  if (!who || !m) return;
  const mark = who + ' ' + m.release;
  if ('serviceWorker' in navigator && localStorage.getItem('pantau-precache') !== mark) {
    navigator.serviceWorker.ready.then((r) => {
      if (r.active) r.active.postMessage('precache');
      localStorage.setItem('pantau-precache', mark);
    }).catch(() => {});
  }
  const last = +localStorage.getItem('pantau-slice-at') || 0;
  if ((m.programmes || []).length && Date.now() - last > SLICE_EVERY_MS) {
    localStorage.setItem('pantau-slice-at', String(Date.now()));
    import('./picker.js').then((p) => Promise.all(m.programmes.map((x) => p.refresh(x)))).catch(() => {});
  }
}

export function sync() {
  if (running) return running.then(() => sync());
  running = exclusive(async () => {
    const d = await db();
    let who = '';
    if (core.due(await d.getAll('outbox'), Date.now(), '').length) who = await whoami();
    for (;;) {
      const item = core.due(await d.getAll('outbox'), Date.now(), who)[0];
      if (!item) break;
      const done = await sendItem(item);
      if (done.state === 'saved') break; // no signal or no session: the others would fare the same
    }
    schedule(await d.getAll('outbox'), who);
  }).then(() => { running = null; }, () => { running = null; });
  return running;
}

function schedule(items, who) {
  clearTimeout(wakeTimer);
  const ms = core.wake(items, Date.now(), who);
  if (ms >= 0) wakeTimer = setTimeout(sync, Math.max(ms, 250));
}

// Everything waiting is due now: the phone is back online, or the enumerator asked.
export async function now() {
  const d = await db();
  for (const i of await d.getAll('outbox')) {
    if (core.waiting(i) && i.next) await d.put('outbox', Object.assign({}, i, { next: 0 }));
  }
  return sync();
}

// A finished form: into the outbox, its draft gone, and one sync. Resolves with the item as it
// then stands (sent with the receipt, attention with the server's answer, or still saved).
const finished = {}; // instance ids handed to the outbox on this page: no draft of them any more

export async function queue(body, meta, name) {
  finished[body.instance_id] = true;
  const d = await db(), form = doc.getElementById('fill');
  const who = await whom(form, body.answers, name);
  const item = core.enqueue(body, Object.assign({ fields: form ? fieldsOf(form) : [], b: body.base_revision || null, user: me, who: who }, meta), Date.now());
  await d.put('outbox', item);
  await d.delete('drafts', item.id);
  sessionStorage.removeItem('pantau-draf:' + location.pathname);
  await sync();
  return d.get('outbox', item.id);
}

// Whom a record is about, for the outbox's list: the beneficiary a visit names (picker.js keeps the
// name on the answer's input), else the form's instance name (settings.instance_name), else nothing.
async function whom(form, answers, name) {
  const picked = form && form.querySelector('input[data-bnf][data-name]');
  if (picked && picked.value) return picked.getAttribute('data-name');
  if (!name) return '';
  const x = await import('./expr-eval.js');
  try { return x.toString(x.evaluate(name, { answers: answers, current: '', scope: {}, position: [] })); } catch (e) { return ''; }
}

export async function items() {
  return (await (await db()).getAll('outbox')).sort((a, b) => b.created - a.created);
}

// --- drafts: every change on the fill page, kept by instance id -------------------------------------------
function fieldsOf(form) {
  const out = [];
  for (const e of form.elements) {
    if (!e.name || e.name === '_csrf_token' || e.type === 'file' || e.type === 'submit' || e.type === 'button') continue;
    if ((e.type === 'radio' || e.type === 'checkbox') && !e.checked) continue;
    out.push([e.name, e.value]);
  }
  return out;
}

function restore(form, fields) {
  const by = {};
  fields.forEach((f) => { (by[f[0]] = by[f[0]] || []).push(f[1]); });
  for (let round = 0; round < 4; round++) { // repeats, counted repeats and cascades appear in turn
    form.querySelectorAll('.rp[id^="w-"]').forEach((rep) => {
      const key = rep.id.slice(2), at = key.length + 1;
      const want = Object.keys(by).reduce((n, name) => (name.indexOf(key + '[') === 0 ? Math.max(n, parseInt(name.slice(at), 10) + 1) : n), 0);
      const add = rep.querySelector(':scope > .add');
      for (let i = rep.querySelectorAll(':scope > .ri').length; add && !add.disabled && i < want; i++) add.click();
    });
    for (const e of form.elements) {
      if (!e.name || e.name === '_csrf_token' || e.name === '_id' || e.type === 'file' || e.type === 'submit' || e.type === 'button') continue;
      const v = by[e.name] || [];
      if (e.type === 'radio' || e.type === 'checkbox') e.checked = v.indexOf(e.value) >= 0;
      else if (v.length) e.value = v[0];
    }
    form.dispatchEvent(new Event('change', { bubbles: true }));
  }
  form.querySelectorAll('.q.image input[type=hidden], .q.sig input[type=hidden]').forEach((h) => {
    if (!/^[0-9a-f]{64}$/.test(h.value)) return;
    photoBlob(h.value).then((b) => {
      if (!b || h.parentNode.querySelector('img.th')) return;
      h.parentNode.insertBefore(make('img', { class: 'th', alt: '', src: URL.createObjectURL(b) }), h.parentNode.querySelector('.err'));
    });
  });
}

function draftUrl(form, v, id, lang) {
  return '/f/' + form + '?v=' + encodeURIComponent(v) + (lang === 'en' ? '&lang=en' : '') + '&draf=' + id;
}

// An item the server refused (a newer rule, a missing answer): back into a draft with the answers
// as they were typed, to fix and send again under the same instance id. When the server already
// holds other content under that id (submission.conflict), the same id could never be accepted:
// the answers become a new record with a new id, and the refused item leaves the outbox (its
// answers are in the draft now), so nothing typed is lost and nothing overwrites the server's.
async function reopen(item) {
  const d = await db(), b = item.body;
  const conflict = !!(item.answer && item.answer.code === 'submission.conflict');
  const id = conflict ? uuid4() : item.id;
  // The refusal goes with the draft, so the form opens at the question it names (form.js `refused`).
  await d.put('drafts', { id: id, user: item.user || me, form: b.form_id, v: b.form_version, b: b.base_revision || null, title: item.title,
    url: draftUrl(b.form_id, b.form_version, id, EN ? 'en' : 'id'), fields: item.fields || [], updated: Date.now(),
    answer: conflict ? null : item.answer });
  if (conflict) await d.delete('outbox', item.id);
  location.href = draftUrl(b.form_id, b.form_version, id, EN ? 'en' : 'id');
}

// A refused item that cannot be fixed (the household moved away, a test record): gone from the
// phone after the enumerator confirms, with the photos no other item or draft needs.
async function dropRefused(item) {
  if (!window.confirm(T('drop_ask'))) return;
  const d = await db();
  await d.delete('outbox', item.id);
  await forget(d, item);
  changed();
}

function uuid4() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.prototype.map.call(b, (x) => (x + 0x100).toString(16).slice(1)).join('');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
}

async function draftOf(id) {
  return id ? (await db()).get('drafts', id) : null;
}

// The fill page: resume a draft (?draf=<id>, or the one this tab had open before a reload), save
// on every change, and start the outbox.
export async function page(form, C) {
  const key = 'pantau-draf:' + location.pathname, wanted = new URLSearchParams(location.search).get('draf');
  const draft = await draftOf(wanted || sessionStorage.getItem(key));
  if (draft && draft.form === C.id && core.mine(draft, me)) { // a shared phone: only one's own drafts
    C.i = draft.id;
    if (draft.b) C.b = draft.b;
    form.querySelector('[name="_id"]').value = draft.id;
    restore(form, draft.fields);
    const runtime = window.pantauForm || {};
    if (draft.answer && runtime.refused) runtime.refused(draft.answer); // opens at the question refused
    else if (draft.pg && runtime.open) runtime.open(draft.pg); // where the enumerator left off
  }
  let timer = 0, touched = !!draft;
  const save = async () => {
    timer = 0;
    if (finished[C.i]) return; // in the outbox: not a draft any more
    const d = await db();
    const at = window.pantauForm && window.pantauForm.at ? window.pantauForm.at() : 0;
    await d.put('drafts', { id: C.i, user: me, form: C.id, v: C.v, b: C.b || null, title: doc.querySelector('h1').textContent,
        url: draftUrl(C.id, C.v, C.i, C.lang), fields: fieldsOf(form), pg: at, updated: Date.now() });
    sessionStorage.setItem(key, C.i);
  };
  const later = () => { touched = true; clearTimeout(timer); timer = setTimeout(save, 150); };
  form.addEventListener('input', later);
  form.addEventListener('change', (e) => { if (e.isTrusted) later(); });
  form.addEventListener('pantau:page', () => { if (touched) later(); });
  // A photo lands in its hidden input without an event: save when it does.
  new MutationObserver(later).observe(form, { subtree: true, attributes: true, attributeFilter: ['src'] });
  window.addEventListener('pagehide', () => { if (timer) save(); });
  if (touched) later();
  start();
  doc.documentElement.setAttribute('data-offline', 'siap'); // drafts restored, outbox started
}

// After a form went into the outbox without a receipt: say so, with the way on.
export function showQueued(form, item) {
  form.hidden = true;
  const box = make('section', { class: 'receipt', tabindex: '-1' });
  box.appendChild(make('h2', {}, T('saved')));
  box.appendChild(make('p', { role: 'status' }, item && item.signin ? T('signin') : T('queued')));
  if (item && item.signin) box.appendChild(make('a', { href: '/masuk?next=' + encodeURIComponent('/terkirim') }, T('signin_link')));
  const p = make('p');
  p.appendChild(make('a', { class: 'button', href: location.pathname + location.search.replace(/[?&]draf=[^&]*/, '') }, T('again')));
  p.appendChild(doc.createTextNode(' '));
  p.appendChild(make('a', { href: '/terkirim' }, T('list')));
  box.appendChild(p);
  doc.getElementById('msg').textContent = '';
  form.parentNode.insertBefore(box, form);
  box.focus();
}

// --- start-up on every phone page: the worker, persistent storage, the outbox ------------------------
let started = false;
export function start() {
  if (started) return;
  started = true;
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
  persist();
  window.addEventListener('online', now);
  Promise.all([whoami(), db().then((d) => d.getAll('outbox'))]).then(async ([who, all]) => {
    keepForOffline(who);
    const d = await db(), t = Date.now();
    for (const i of all) if (core.expired(i, t)) await d.delete('outbox', i.id);
    // Signed in again: what waited for a session goes now, not at its next 15 s check.
    if (who && all.some((i) => i.signin && core.waiting(i))) return now();
    return sync();
  });
}

// Asked once per page; refused, it says so at the foot of the page (the outbox may be evicted).
async function persist() {
  if (!navigator.storage || !navigator.storage.persist) return;
  const kept = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  doc.documentElement.setAttribute('data-persist', kept ? 'ya' : 'tidak');
  const main = doc.querySelector('main');
  // Said once on this phone, as information: the data is kept either way, only an HP that runs out of
  // space may clear it. A red line on every page taught enumerators to ignore red lines.
  if (!kept && main && !main.querySelector('.persist') && !localStorage.getItem('pantau-persist-told')) {
    main.appendChild(make('p', { class: 'note persist', role: 'status' }, T('persist_no'))); // below: no layout shift
    localStorage.setItem('pantau-persist-told', String(Date.now()));
  }
}

// --- the Draf and Terkirim pages ------------------------------------------------------------------------
async function showDrafts(list) {
  // A shared phone: each person sees only their own drafts (the others stay, for when they sign in).
  const drafts = (await (await db()).getAll('drafts')).filter((x) => core.mine(x, me)).sort((a, b) => b.updated - a.updated);
  list.textContent = '';
  if (!drafts.length) list.appendChild(make('li', { class: 'empty' }, T('none_drafts')));
  drafts.forEach((d) => {
    const li = make('li', { 'data-id': d.id });
    li.appendChild(make('strong', {}, d.title));
    li.appendChild(doc.createTextNode(' ' + T('changed') + ' ' + new Date(d.updated).toLocaleString(EN ? 'en-GB' : 'id-ID') + ' '));
    li.appendChild(make('a', { class: 'button', href: d.url }, T('resume')));
    const drop = make('button', { type: 'button', class: 'alt' }, T('discard'));
    drop.addEventListener('click', async () => { await (await db()).delete('drafts', d.id); showDrafts(list); });
    li.appendChild(doc.createTextNode(' '));
    li.appendChild(drop);
    list.appendChild(li);
  });
}

const when = (ms) => new Date(ms).toLocaleString(EN ? 'en-GB' : 'id-ID', { dateStyle: 'medium', timeStyle: 'short' });

// The item's state in words: waiting for signal, being sent, received (with the receipt), or
// refused with the server's own reason.
function stateLine(item) {
  if (item.state === 'sent' && item.receipt) {
    return T('st_sent') + ' · ' + T('receipt', { r: item.receipt.revision, t: when(item.receipt.received_at) });
  }
  if (item.state === 'attention' && item.answer) {
    const first = (item.answer.errors || [])[0], detail = EN ? item.answer.detail : item.answer.detail_id;
    const at = first && (EN ? first.message_en : first.message);
    return T('attention') + ': ' + (detail || item.answer.status) + (at && at !== detail ? ' (' + first.path + ': ' + at + ')' : '');
  }
  if (item.state === 'sending') return T('st_sending');
  return T('st_saved') + (item.attempts ? ' · ' + T('attempts', { n: item.attempts + 1 }) : '');
}

function outboxItem(i) {
  const li = make('li', { 'data-id': i.id, 'data-state': i.state });
  li.appendChild(make('strong', {}, i.who || i.title || i.body.form_id));
  li.appendChild(make('br'));
  li.appendChild(make('span', { class: 'meta' }, (i.who ? i.title + ' · ' : '') + when(i.created) + ' · ' + i.id.slice(0, 8)));
  li.appendChild(make('br'));
  li.appendChild(make('span', { class: 'state' }, stateLine(i) + (core.mine(i, me) ? '' : ' · ' + T('other', { u: i.user }))));
  if (i.state === 'attention') {
    const fix = make('button', { type: 'button', class: 'alt fix' }, T('fix'));
    fix.addEventListener('click', () => reopen(i));
    const drop = make('button', { type: 'button', class: 'alt drop' }, T('drop'));
    drop.addEventListener('click', () => dropRefused(i));
    li.appendChild(doc.createTextNode(' '));
    li.appendChild(fix);
    li.appendChild(doc.createTextNode(' '));
    li.appendChild(drop);
  }
  return li;
}

// Two lists: what is still on its way (waiting, being sent, refused) and what the server received.
async function showOutbox(box, signin) {
  const all = await items(), lists = { unsent: box.querySelector('#unsent'), sent: box.querySelector('#sent') };
  Object.keys(lists).forEach((k) => { lists[k].textContent = ''; });
  all.forEach((i) => lists[i.state === 'sent' ? 'sent' : 'unsent'].appendChild(outboxItem(i)));
  Object.keys(lists).forEach((k) => {
    if (!lists[k].children.length) lists[k].appendChild(make('li', { class: 'empty' }, T(k === 'sent' ? 'none_sent' : 'none_unsent')));
  });
  signin.textContent = '';
  if (all.some((i) => i.signin && core.waiting(i))) {
    signin.appendChild(make('p', { class: 'error' }, T('signin') + ' '));
    signin.firstChild.appendChild(make('a', { href: '/masuk?next=' + encodeURIComponent(location.pathname) }, T('signin_link')));
  }
  // Side by side: each row of the server's list says whether this phone holds it too.
  const mine = {};
  all.forEach((i) => { mine[i.id] = i; });
  doc.querySelectorAll('#server-list tr[data-id]').forEach((tr) => {
    const i = mine[tr.getAttribute('data-id')];
    let cell = tr.querySelector('.phone');
    if (!cell) { cell = make('td', { class: 'phone' }); tr.appendChild(cell); }
    cell.textContent = i ? T('on_phone', { s: T(i.state === 'sending' ? 'sending' : i.state) }) : '';
  });
}

async function user() {
  return (await whoami()) || me;
}

function base64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).slice(String(reader.result).indexOf(',') + 1));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

// The outbox (unsent items with their photos) as a file that staff import on /impor.
export async function exportFile() {
  const all = await items(), photos = {}, d = await db();
  for (const i of all.filter((x) => x.state !== 'sent')) {
    for (const sha of i.photos) {
      const p = await d.get('photos', sha);
      if (p) photos[sha] = await base64(p.blob);
    }
  }
  const who = await user(), stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '');
  const doc1 = core.exportDoc(who, all.filter((i) => core.mine(i, who)), photos, Date.now());
  const blob = new Blob([JSON.stringify(doc1)], { type: 'application/json' });
  const a = make('a', { href: URL.createObjectURL(blob), download: 'pantau-outbox-' + who + '-' + stamp + '.json' });
  doc.body.appendChild(a);
  a.click();
  a.remove();
}

function phonePage() {
  const config = doc.getElementById('pantau-phone');
  if (!config) return;
  const c = JSON.parse(config.textContent);
  if (c.user) { me = c.user; localStorage.setItem('pantau-user', me); }
  start();
  const drafts = doc.getElementById('drafts'), outbox = doc.getElementById('outbox'), signin = doc.getElementById('signin');
  if (drafts) showDrafts(drafts);
  if (outbox) {
    const show = () => showOutbox(outbox, signin);
    listeners.push(show);
    show();
    doc.getElementById('sync-now').addEventListener('click', now);
    doc.getElementById('export').addEventListener('click', exportFile);
  }
  doc.documentElement.setAttribute('data-pantau', 'siap');
  doc.documentElement.setAttribute('data-offline', 'siap');
}

phonePage();
