// The beneficiary picker: a `beneficiary` question becomes a search over the phone's own
// copy of its areas' beneficiaries (GET /api/v1/penerima?program=: compact rows, masked NIK, desa
// names), kept in IndexedDB (the vendored idb) and brought up to date incrementally with ?sejak=,
// so it finds people offline.
// The question's text input stays the answer (the beneficiary's id): without JavaScript, or before
// the copy arrives, it is still typed by hand. Search logic is pure and tested by node (tests/js/).
// Chrome 61+: no ?., ??, classes, finally().

import { openDB } from '../vendor/idb.js';
import { make } from './dom.js';

const DB_VERSION = 1, LIMIT = 20;
const APOSTROPHES = /['’`]/g, NOT_WORD = /[^0-9a-z]+/g;

// The form names are searched in: as server/domain/registry.name_key ("Nur'aini" ~ "nuraini").
export function nameKey(text) {
  const plain = String(text || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  return plain.replace(APOSTROPHES, '').replace(NOT_WORD, ' ').trim().replace(/ +/g, ' ');
}

// A row of the API ([id, nik, name, desa code, last visit, KK tag, birth date]) as the copy keeps it.
export function entry(row, desaNames) {
  const desa = desaNames[row[3]] || row[3];
  return { id: row[0], nik: row[1], name: row[2], area: row[3], desa: desa, last: row[4] || '',
    kt: row[5] || '', b: row[6] || '', k: nameKey(row[2]), dk: nameKey(desa) };
}

// How well one entry answers the query: 0 no match; higher first. Words search names and desas.
// Digits find nobody: a masked NIK shows only its province (64**************), and confirming a
// whole number is a reveal, for the server alone (storage/id_search.py).
export function score(e, query) {
  if (/^[\d\s.*-]+$/.test(query)) return 0;
  const q = nameKey(query);
  if (!q) return 0;
  if (e.k.indexOf(q) === 0) return 4;
  const words = q.split(' ');
  const inName = words.every((w) => (' ' + e.k).indexOf(' ' + w) >= 0);
  if (inName) return 3;
  const both = (' ' + e.k + ' ' + e.dk).replace(/ +/g, ' ');
  if (words.every((w) => both.indexOf(' ' + w) >= 0)) return 2;
  return 0;
}

// The best matches, best first, then by name.
export function search(entries, query, limit) {
  const found = [];
  entries.forEach((e) => { const s = score(e, query); if (s) found.push([s, e]); });
  found.sort((a, b) => b[0] - a[0] || (a[1].k < b[1].k ? -1 : a[1].k > b[1].k ? 1 : 0));
  return found.slice(0, limit || LIMIT).map((f) => f[1]);
}

// One page of /api/v1/penerima applied to the copy (a Map id -> entry): rows replace by id, merged
// records go (the id they became arrives as a row of its own).
export function applySlice(copy, slice) {
  (slice.rows || []).forEach((row) => copy.set(row[0], entry(row, slice.desa || {})));
  (slice.removed || []).forEach((pair) => copy.delete(pair[0]));
  return copy;
}

// --- IndexedDB (through the vendored idb): one database per programme, entries by id and the cursor ---
function openCopy(programme) {
  return openDB('pantau-penerima-' + (programme || 'semua'), DB_VERSION, {
    upgrade(db) {
      db.createObjectStore('rows', { keyPath: 'id' });
      db.createObjectStore('meta');
    },
  });
}

async function load(db) {
  const rows = await db.getAll('rows'), meta = (await db.get('meta', 'sync')) || {}, copy = new Map();
  rows.forEach((e) => copy.set(e.id, e));
  return { copy: copy, meta: meta };
}

function save(db, slice, copy, fresh) {
  const tx = db.transaction(['rows', 'meta'], 'readwrite'), rows = tx.objectStore('rows');
  if (fresh) rows.clear();
  (slice.rows || []).forEach((row) => rows.put(copy.get(row[0])));
  (slice.removed || []).forEach((pair) => rows.delete(pair[0]));
  tx.objectStore('meta').put({ cursor: slice.cursor, user: slice.user, kk: slice.kk_key || '', at: Date.now() }, 'sync');
  return tx.done;
}

// Brings the copy up to date; false when the server cannot be reached (offline: the copy stays).
async function sync(db, state, programme) {
  // A copy from before rows carried KK tags and birth dates (no meta.kk) is fetched again whole, once.
  let cursor = state.meta.kk === undefined ? '' : state.meta.cursor || '', fresh = !cursor && state.copy.size > 0;
  for (let pages = 0; pages < 100; pages++) {
    const url = '/api/v1/penerima?program=' + encodeURIComponent(programme) + (cursor ? '&sejak=' + encodeURIComponent(cursor) : '');
    let r;
    try {
      r = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    } catch (e) {
      return false;
    }
    if (!r.ok) return false;
    const slice = await r.json();
    if (state.meta.user && slice.user !== state.meta.user) { // another person signed in on this phone
      state.copy.clear();
      state.meta = {};
      cursor = '';
      fresh = true;
      continue;
    }
    if (fresh) state.copy.clear(); // only now: offline, the old copy stays usable
    applySlice(state.copy, slice);
    await save(db, slice, state.copy, fresh);
    fresh = false;
    state.meta = { cursor: slice.cursor, user: slice.user, kk: slice.kk_key || '', at: Date.now() };
    cursor = slice.cursor;
    if (!slice.more) return true;
  }
  return true;
}

// The copy brought up to date without a form on the page (offline.js, from sign-in on): a visit form
// opened upriver for the first time still finds its people.
export function refresh(programme) {
  if (!window.indexedDB) return Promise.resolve(false);
  return openCopy(programme).then((db) => load(db).then((state) => sync(db, state, programme)));
}

// The copy as it is now ({copy: Map id -> entry, meta}), brought up to date first when the server
// answers (dupcheck.js: who an intake may register twice).
export async function copyOf(programme) {
  if (!window.indexedDB) return { copy: new Map(), meta: {} };
  const db = await openCopy(programme), state = await load(db);
  await sync(db, state, programme);
  return state;
}

// --- the widget ---------------------------------------------------------------------------------------
const fill = (t, p) => String(t).replace(/\{(\w+)\}/g, (m, k) => (k in p ? p[k] : m));
const line = (e) => e.name + ' · ' + e.nik + ' · ' + e.desa;

// The page loads this module only when the form has a beneficiary question (fill.html); it waits for
// form.js, which announces the programme and the page's texts once the form's rules are in.
function start() {
  const runtime = window.pantauForm;
  document.querySelectorAll('input[data-bnf]').forEach((e) => attachPicker(e, runtime.program, runtime.msg));
}

if (typeof document !== 'undefined') {
  if (window.pantauForm) start(); else document.addEventListener('pantau:siap', start, { once: true });
}

// `input` is the question's text input (its value the beneficiary id); M the page's UI texts.
export function attachPicker(input, programme, M) {
  const wrap = input.closest('.q'), label = wrap.querySelector('label[for="' + input.id + '"]');
  const box = make('input', { type: 'search', id: 'c-' + input.id, class: 'pick', autocomplete: 'off',
    placeholder: M.pick_search, role: 'combobox', 'aria-expanded': 'false', 'aria-controls': 'l-' + input.id });
  const list = make('ul', { id: 'l-' + input.id, class: 'picks', role: 'listbox' });
  const chosen = make('p', { class: 'chosen', 'aria-live': 'polite' }), status = make('p', { class: 'h' });
  const state = { copy: new Map(), meta: {} };
  input.hidden = true;
  if (label) label.setAttribute('for', box.id);
  input.parentNode.insertBefore(box, input);
  [status, chosen, list].forEach((e) => input.parentNode.insertBefore(e, input.nextSibling)); // box, matches, pick, status

  function showChosen() {
    const e = input.value && state.copy.get(input.value);
    chosen.textContent = input.value ? M.pick_chosen + ': ' + (e ? line(e) : input.value) : '';
    if (e) input.setAttribute('data-name', e.name); // whom the record is about, for the outbox's list
    else input.removeAttribute('data-name');
  }

  function showStatus(online) {
    const when = state.meta.at ? new Date(state.meta.at).toLocaleString(document.documentElement.lang === 'en' ? 'en-GB' : 'id-ID') : '';
    status.textContent = state.copy.size || when ? fill(M.pick_count, { n: state.copy.size, when: when }) : M.pick_none;
    if (!online && state.copy.size) status.textContent += ' ' + M.pick_offline;
  }

  function choose(e) {
    input.value = e.id;
    input.dispatchEvent(new Event('change', { bubbles: true })); // form.js re-checks and recomputes
    box.value = '';
    list.textContent = '';
    box.setAttribute('aria-expanded', 'false');
    showChosen();
  }

  function results() {
    list.textContent = '';
    const query = box.value.trim();
    if (!query) { box.setAttribute('aria-expanded', 'false'); return; }
    const found = search(Array.from(state.copy.values()), query, LIMIT);
    if (!found.length) list.appendChild(make('li', { class: 'h' }, M.pick_nothing));
    found.forEach((e) => {
      const b = make('button', { type: 'button', class: 'alt', role: 'option', 'data-id': e.id }, line(e));
      if (e.last) b.appendChild(make('small', {}, ' · ' + e.last));
      b.addEventListener('click', () => choose(e));
      list.appendChild(make('li')).appendChild(b);
    });
    box.setAttribute('aria-expanded', found.length ? 'true' : 'false');
  }

  box.addEventListener('input', (ev) => { ev.stopPropagation(); results(); });
  box.addEventListener('change', (ev) => ev.stopPropagation()); // not an answer: form.js skips it
  box.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault(); // Enter picks the first match instead of submitting the form
    const first = list.querySelector('button');
    if (first) first.click();
  });

  if (!window.indexedDB) { input.hidden = false; box.remove(); return Promise.resolve(null); }
  // ?penerima=<id> (the beneficiary page's "fill a visit" links): that person, when the copy has them.
  const wanted = new URLSearchParams(location.search).get('penerima');
  const preselect = () => { if (wanted && !input.value && state.copy.has(wanted)) choose(state.copy.get(wanted)); };
  return openCopy(programme).then((db) => load(db).then((loaded) => {
    state.copy = loaded.copy;
    state.meta = loaded.meta;
    preselect();
    showChosen();
    showStatus(true);
    wrap.setAttribute('data-picker', 'lokal');
    return sync(db, state, programme).then((online) => {
      preselect();
      showChosen();
      showStatus(online);
      wrap.setAttribute('data-picker', online ? 'siap' : 'offline');
      if (box.value) results();
      return state;
    });
  })).catch(() => { input.hidden = false; box.remove(); status.textContent = ''; return null; });
}
