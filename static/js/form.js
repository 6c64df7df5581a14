// The fill page's runtime: live relevance and calculations, checks at the field, cascading
// choices, repeats, pages, GPS, photos and the NIK helper, then the JSON submission. It only improves
// the page: without it the same form posts as HTML. The rules come from /f/<id>/aturan, the ASTs the
// server runs too (server/web/fill_runtime.runtime_rules). Chrome 61+: no ?., ??, classes, finally().
import { evaluate, toBoolean, toString } from './expr-eval.js';
import { csrf, make } from './dom.js';
import { checkId, digitsOf } from './nik.js';

const doc = document, root = doc.documentElement, form = doc.getElementById('fill');
const config = JSON.parse(doc.getElementById('pantau-form').textContent);
let spec = null, msg = {};
const shownErrors = {}, kept = {}, uploads = [], ID_TYPES = ['nik', 'no_kk', 'geopoint'];
// added by lazily loaded helpers (growth.js, repeat.js...): before each refresh's filters, after each refresh, at each check
const pre = [], hooks = [], checks = [];
let page = 0, timer = 0, paged = false;
// Drafts, photos and the outbox, loaded once the form works: the first visit stays light.
const offline = () => import('./offline.js');

// --- small helpers ------------------------------------------------------------------------------
const byId = (id) => doc.getElementById(id);
const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
const empty = (v) => v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length);
const fill = (t, p) => String(t).replace(/\{(\w+)\}/g, (m, k) => (p && k in p ? p[k] : m));
const nameOf = (key) => key.slice(key.lastIndexOf('.') + 1);

// "anggota[1].nama" -> [[['anggota', 1]], 'nama']
function parseKey(key) {
  const parts = key.split('.'), pos = [];
  for (let i = 0; i < parts.length - 1; i++) {
    const m = /^(.+)\[(\d+)\]$/.exec(parts[i]);
    if (!m) return null;
    pos.push([m[1], +m[2]]);
  }
  return [pos, parts[parts.length - 1]];
}

const keyOf = (pos, name) => pos.map((p) => p[0] + '[' + p[1] + ']').concat([name]).join('.');
const keyOfPath = (path) => path.split('/').map((s) => s.replace(/\[(\d+)\]$/, (m, n) => '[' + (n - 1) + ']')).join('.');

// The element that shows or hides a field: its .q wrapper, or a group/repeat/note/calc by id.
function wrapper(key) {
  const w = byId('w-' + key);
  if (w) return w;
  const f = byId('f-' + key);
  return f ? f.closest('.q') || f : null;
}

// --- answers: the DOM -> the same dict the JSON API takes ----------------------------------------
const TYPED = {
  integer: (s) => (/^[+-]?\d+$/.test(s) ? parseInt(s, 10) : s),
  decimal: (s) => { const t = /^[^.]*,[^,.]*$/.test(s) ? s.replace(',', '.') : s; return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(t) ? parseFloat(t) : s; },
  rupiah: (s) => { const t = s.replace(/^Rp\.?\s*/i, '').replace(/\s/g, '').replace(/\.(?=\d{3}(\D|$))/g, '').replace(/[.,]00$/, ''); return /^\d+$/.test(t) ? parseInt(t, 10) : s; },
  nik: digitsOf,
  datetime: (s) => (!s || /(Z|[+-]\d\d:?\d\d)$/.test(s) ? s : s + offset()),
  acknowledge: () => 'OK',
};
TYPED.no_kk = TYPED.nik;

function offset() {
  const m = -new Date().getTimezoneOffset(), a = Math.abs(m), p = (n) => (n < 10 ? '0' : '') + n;
  return (m < 0 ? '-' : '+') + p(Math.floor(a / 60)) + ':' + p(a % 60);
}

function levelAt(values, pos, create) {
  let level = values;
  for (const step of pos) {
    let list = level[step[0]];
    if (!Array.isArray(list)) { if (!create) return null; list = level[step[0]] = []; }
    if (!isObj(list[step[1]])) { if (!create) return null; list[step[1]] = {}; }
    level = list[step[1]];
  }
  return level;
}

function collect() {
  const values = {};
  // Every repeat instance counts, even one with nothing answered yet.
  form.querySelectorAll('.ri').forEach((ri) => { const p = parseKey(ri.id.slice(2) + '.x'); if (p) levelAt(values, p[0], true); });
  for (const e of form.elements) {
    const p = e.name && parseKey(e.name);
    if (!p || e.type === 'file' || e.type === 'submit' || e.type === 'button' || e.disabled) continue;
    if ((e.type === 'radio' || e.type === 'checkbox') && !e.checked) continue;
    const level = levelAt(values, p[0], true), name = p[1], f = spec.fields[name], raw = e.value.trim();
    if (name === '_konfirmasi') (level[name] = level[name] || []).push(raw);
    else if (!f || f[0] === 'calculate' || raw === '') continue;
    else if (f[0] === 'select_multiple') (level[name] = level[name] || []).push(raw);
    else level[name] = (TYPED[f[0]] || String)(raw);
  }
  return values;
}

// --- relevance and calculations, as server/domain/answers.py computes them -------------------------
function instances(values, scope) {
  let found = [[[], [values]]];
  scope.forEach((rep) => {
    const next = [];
    found.forEach((f) => {
      const list = f[1][f[1].length - 1][rep];
      if (Array.isArray(list)) list.forEach((item, i) => { if (isObj(item)) next.push([f[0].concat([[rep, i]]), f[1].concat([item])]); });
    });
    found = next;
  });
  return found;
}

const ctx = (values, pos, current) => ({ answers: values, current: empty(current) ? '' : current, scope: spec.scope, position: pos, instances: spec.inst, lists: spec.cl });

function stored(v) {
  // a nodeset: its first item, as the server
  if (Array.isArray(v)) v = v.length ? v[0] : '';
  if (v === '' || (typeof v === 'number' && v !== v)) return null;
  return v;
}

function run(values) {
  const rel = {};
  spec.order.forEach((name) => {
    const f = spec.fields[name], rules = spec.rules[name] || {}, parent = f[1];
    instances(values, f[2]).forEach((inst) => {
      const pos = inst[0], level = inst[1][inst[1].length - 1], key = keyOf(pos, name);
      let ok = !parent || rel[keyOf(pos.slice(0, spec.fields[parent][2].length), parent)] !== false;
      if (ok && rules.relevant) ok = toBoolean(evaluate(rules.relevant, ctx(values, pos, level[name])));
      rel[key] = ok;
      if (!ok) delete level[name];
      // (A calculation with a trigger is setvalue.js's.)
      else if (rules.calculation && !rules.trigger) {
        // once() keeps it
        const v = kept[key] = stored(evaluate(rules.calculation, ctx(values, pos, kept[key])));
        if (v === null) delete level[name]; else level[name] = v;
      }
    });
  });
  return rel;
}

// --- the page follows the answers ---------------------------------------------------------------------
function refresh() {
  clearTimeout(timer);
  timer = 0;
  form.removeAttribute('aria-busy');
  let values, rel;
  // a filter that clears an answer changes what follows
  for (let round = 0; round < 3; round++) {
    values = collect();
    rel = run(values);
    pre.forEach((h) => h(values));
    if (!filterChoices(values)) break;
  }
  Object.keys(rel).forEach((key) => {
    const w = wrapper(key);
    // a calculation: never shown
    if (w && w.tagName === 'OUTPUT') w.value = toString(valueAt(values, key));
    else if (w && w.hidden !== !rel[key]) { w.hidden = !rel[key]; if (!rel[key]) setError(key, ''); }
  });
  form.querySelectorAll('[data-t]').forEach((span) => {
    const k = hostKey(span), p = k ? parseKey(k) : null, c = ctx(values, p ? p[0] : [], '');
    span.textContent = span.getAttribute('data-t').replace(/\$\{([^}]*)\}/g, (m, n) => toString(evaluate({ t: 'ref', name: n }, c)));
  });
  hooks.forEach((h) => h(values));
  Object.keys(spec.fields).forEach((name) => {
    if (ID_TYPES.indexOf(spec.fields[name][0]) >= 0) idHelpers(name, values, rel);
    else if (spec.fields[name][0] === 'rupiah') rupiahEcho(name, values);
  });
  Object.keys(shownErrors).forEach((key) => { if (shownErrors[key]) showCheck(key, values, rel); });
  pages();
  return { values: values, rel: rel };
}

function schedule() {
  if (timer) return;
  // until the page has followed the last keystroke
  form.setAttribute('aria-busy', 'true');
  timer = setTimeout(refresh, 60);
}

function valueAt(values, key) {
  const p = parseKey(key), level = p && levelAt(values, p[0], false);
  return level ? level[p[1]] : undefined;
}

function hostKey(node) {
  const q = node.closest('.q,.g,.rp');
  if (!q) return '';
  if (q.id) return q.id.slice(2);
  const input = q.querySelector('[id^="f-"]');
  return input ? input.id.slice(2) : '';
}

// --- checks at the field -----------------------------------------------------------------------------
function problem(key, values, rel) {
  const p = parseKey(key);
  if (!p || rel[key] === false) return '';
  const name = p[1], f = spec.fields[name], rules = spec.rules[name] || {};
  if (!f || ['group', 'repeat', 'note', 'calculate'].indexOf(f[0]) >= 0) return repeatProblem(key, name, values, rules);
  const v = valueAt(values, key), c = ctx(values, p[0], v);
  if (empty(v)) {
    const required = rules.required === true || (isObj(rules.required) && toBoolean(evaluate(rules.required, c)));
    return required ? spec.required_messages[name] || msg['answer.required'] : '';
  }
  const bad = typeProblem(f[0], v) || areaProblem(name, v) || checks.reduce((m, c) => m || c(name, v), '');
  if (bad) return bad;
  if (rules.constraint && !toBoolean(evaluate(rules.constraint, c))) return spec.constraint_messages[name] || msg['answer.constraint'];
  const id = idCheck(name, f[0], v, values, p[0]);
  if (id.error) return id.error;
  const box = ticked(key), w = wrapper(key);
  return (id.warnings.length || (w && w.querySelector('ul[data-srv] li'))) && box && !box.checked ? msg.tick : '';
}

function typeProblem(type, v) {
  const code = { integer: 'answer.integer', decimal: 'answer.decimal', rupiah: 'answer.rupiah' }[type];
  if (code && typeof v !== 'number') return msg[code];
  if (type === 'geopoint' && !/^-?\d+(\.\d+)?\s+-?\d+(\.\d+)?(\s+-?\d+(\.\d+)?){0,2}$/.test(v)) return msg['answer.geopoint'];
  return '';
}

// The server refuses a record outside the enumerator's areas (config.areas; absent: the whole kabupaten):
// say so at the region question before it is sent, as the server would after.
const reachable = (code) => !config.areas || config.areas.some((a) => code === a || code.indexOf(a + '.') === 0 || a.indexOf(code + '.') === 0);

function areaProblem(name, v) {
  return spec.regions && spec.regions.indexOf(name) >= 0 && typeof v === 'string' && !reachable(v) ? msg.outside_area : '';
}

function repeatProblem(key, name, values, rules) {
  const f = spec.fields[name];
  if (!f || f[0] !== 'repeat') return '';
  const list = valueAt(values, key), n = Array.isArray(list) ? list.length : 0;
  if (rules.min_count !== undefined && n < rules.min_count) return fill(msg['answer.repeat_min'], { min: rules.min_count });
  if (rules.max_count !== undefined && n > rules.max_count) return fill(msg['answer.repeat_max'], { max: rules.max_count });
  return '';
}

function setError(key, message) {
  const w = wrapper(key);
  if (!w) return;
  shownErrors[key] = message;
  let e = byId('e-' + key);
  if (!message) { if (e) e.remove(); }
  else if (!e) { e = make('p', { class: 'err', id: 'e-' + key }, message); w.appendChild(e); }
  else e.textContent = message;
  const target = byId('f-' + key) || w, ids = (target.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== 'e-' + key);
  if (message) ids.push('e-' + key);
  if (ids.length) target.setAttribute('aria-describedby', ids.join(' ')); else target.removeAttribute('aria-describedby');
  if (message) target.setAttribute('aria-invalid', 'true'); else target.removeAttribute('aria-invalid');
}

function showCheck(key, values, rel) { setError(key, problem(key, values, rel)); }

// Every field (and repeat) at every instance, or only those on one page.
function allKeys(values, onPage) {
  const keys = [];
  Object.keys(spec.fields).forEach((name) => {
    instances(values, spec.fields[name][2]).forEach((inst) => {
      const key = keyOf(inst[0], name), w = wrapper(key);
      if (w && (onPage === undefined || pageOf(w) === onPage)) keys.push(key);
    });
  });
  return keys;
}

function checkAll(state, onPage) {
  const bad = [];
  allKeys(state.values, onPage).forEach((key) => {
    const m = problem(key, state.values, state.rel);
    setError(key, m);
    if (m) bad.push(key);
  });
  return bad;
}

// --- NIK, KK and GPS: what the number encodes, and warnings that need the tick -----------------------
const MONTHS = { id: 'Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember', en: 'January February March April May June July August September October November December' };

function idCheck(name, type, v, values, pos) {
  const params = spec.params[name] || {}, out = { error: '', warnings: [], info: '' };
  const other = (p) => (params[p] ? valueAt(values, keyOf(pos.slice(0, spec.fields[params[p]][2].length), params[p])) : undefined);
  if (type === 'geopoint') {
    const acc = +String(v).split(/\s+/)[3], limit = +params.max_accuracy;
    if (limit && acc > limit) out.warnings.push(fill(msg['answer.geopoint_accuracy'], { accuracy: acc, limit: limit }));
  }
  if (type !== 'nik' && type !== 'no_kk') return out;
  // A correction opens with NIK/KK masked (whole numbers never leave the server): left as it is,
  // the mask means "unchanged", and the server puts the stored number back. Any mask: a phone may
  // hold a record opened under an older, wider one.
  if (config.b && /^[\d*]{16}$/.test(v) && v.indexOf('*') >= 0) return out;
  const found = checkId(type, v, other('birth_date'), other('sex'), other('registered')), nik = found.parts;
  const say = (finding) => fill(msg[finding[0]], finding[1]);
  if (found.error) { out.error = say(found.error); return out; }
  if (nik) out.info = (nik.female ? msg.female : msg.male) + ' · ' + msg.born + ' ' + nik.day + ' ' + MONTHS[config.lang === 'en' ? 'en' : 'id'].split(' ')[nik.month - 1] + ' ' + nik.year;
  out.warnings = found.warnings.map(say);
  return out;
}

function ticked(key) {
  const w = wrapper(key);
  return w ? w.querySelector('.cf input') : null;
}

// An amount typed as digits is read back as Rupiah is written (Rp 1.200.000), so a missing or extra
// zero is seen before sending.
const rupiah = (n) => 'Rp ' + String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '.');

function rupiahEcho(name, values) {
  instances(values, spec.fields[name][2]).forEach((inst) => {
    const key = keyOf(inst[0], name), w = wrapper(key), v = valueAt(values, key);
    if (w) part(w, 'p.rp', 'p', 'rp', typeof v === 'number' ? [rupiah(v)] : []);
  });
}

function idHelpers(name, values, rel) {
  const f = spec.fields[name];
  instances(values, f[2]).forEach((inst) => {
    const key = keyOf(inst[0], name), w = wrapper(key), v = valueAt(values, key);
    if (!w) return;
    const r = !empty(v) && rel[key] !== false ? idCheck(name, f[0], String(v), values, inst[0]) : { warnings: [], info: '' };
    part(w, 'p.nik', 'p', 'nik', r.info ? [r.info] : []);
    part(w, 'ul.warn:not([data-srv])', 'ul', 'warn', r.warnings);
    const box = r.warnings.length ? confirmBox(w, key) : w.querySelector('.cf');
    if (box) box.hidden = !r.warnings.length && !w.querySelector('ul[data-srv]');
  });
}

// The tick that confirms a field's warnings, as fill_fields.html writes it.
function confirmBox(w, key) {
  let box = w.querySelector('.cf');
  if (!box) {
    const name = nameOf(key);
    box = make('label', { class: 'o cf' });
    box.appendChild(make('input', { type: 'checkbox', name: key.slice(0, key.length - name.length) + '_konfirmasi', value: name }));
    box.appendChild(doc.createTextNode(' ' + msg.confirm));
    w.appendChild(box);
  }
  box.hidden = false;
  return box;
}

// A warning only the server knows (a region code missing from the Kemendagri list...): shown with its tick.
function serverWarning(key, message) {
  const w = wrapper(key);
  if (!w) return;
  let ul = w.querySelector('ul[data-srv]');
  if (!ul) { ul = make('ul', { class: 'warn', 'data-srv': '' }); w.insertBefore(ul, w.querySelector('.cf')); }
  ul.appendChild(make('li', {}, message));
  confirmBox(w, key);
}

// A helper line under a field: created when there is something to say, emptied otherwise.
function part(w, selector, tag, cls, lines) {
  let e = w.querySelector(selector);
  if (!e && !lines.length) return;
  if (!e) { e = make(tag, { class: cls, 'aria-live': 'polite' }); w.insertBefore(e, w.querySelector('.err,.cf')); }
  e.textContent = '';
  lines.forEach((line) => { if (tag === 'ul') e.appendChild(make('li', {}, line)); else e.textContent = line; });
  e.hidden = !lines.length;
}

// --- choices: a choice_filter cascades (kecamatan -> desa) from the whole list in the rules --------
const offeredCache = {};

function filterChoices(values) {
  let changed = false;
  Object.keys(spec.lists).forEach((name) => {
    const list = spec.lists[name], rule = (spec.rules[name] || {}).choice_filter;
    instances(values, spec.fields[name][2]).forEach((inst) => {
      const key = keyOf(inst[0], name), control = byId('f-' + key);
      if (!control || !rule) return;
      const offered = list.c.filter((c) => {
        // A region outside one's areas is never offered.
        if (list.w && !reachable(c[0])) return false;
        const overlay = Object.assign({}, values, { '_choice.name': c[0], '_choice.label': c[1] });
        const cols = c[2] || {};
        Object.keys(cols).forEach((k) => { overlay['_choice.' + k] = cols[k]; });
        return toBoolean(evaluate(rule, ctx(overlay, inst[0], '')));
      });
      const sig = offered.map((c) => c[0]).join(' ');
      if (offeredCache[key] === sig) return;
      offeredCache[key] = sig;
      changed = (control.fill ? control.fill(offered) : control.tagName === 'SELECT' ? fillSelect(control, offered) : fillBoxes(control, key, offered)) || changed;
    });
  });
  return changed;
}

function fillSelect(select, offered) {
  const was = select.value;
  while (select.options.length > 1) select.remove(1);
  Array.from(select.querySelectorAll('optgroup')).forEach((g) => g.remove());
  offered.forEach((c) => select.appendChild(make('option', { value: c[0] }, c[1])));
  select.value = offered.some((c) => c[0] === was) ? was : '';
  return select.value !== was;
}

function fillBoxes(fieldset, key, offered) {
  const type = spec.fields[nameOf(key)][0] === 'select_multiple' ? 'checkbox' : 'radio';
  const was = Array.from(fieldset.querySelectorAll('input:checked')).map((i) => i.value);
  // The page's own labels are kept to be shown again: they carry the choice's media.
  const kept = fieldset.kept || (fieldset.kept = {});
  fieldset.querySelectorAll('label:not(.cf)').forEach((l) => { kept[l.firstChild.value] = l; l.remove(); });
  const before = fieldset.querySelector('.njs,.err');
  offered.forEach((c) => {
    let label = kept[c[0]];
    if (!label) {
      label = make('label');
      label.appendChild(make('input', { type: type, name: key, value: c[0] }));
      label.appendChild(doc.createTextNode(' ' + c[1]));
    }
    label.hidden = false;
    label.firstChild.checked = was.indexOf(c[0]) >= 0;
    fieldset.insertBefore(label, before);
  });
  return was.some((v) => !offered.some((c) => c[0] === v));
}

// --- pages: one 'layout: page' group (or run of loose fields) at a time ----------------------------
function pageOf(node) {
  const p = node.closest('[data-pg]');
  return p ? +p.getAttribute('data-pg') : 0;
}

// The pages with something to show: a page group that is relevant and has a visible field in it.
function openPages() {
  const open = [];
  form.querySelectorAll('[data-pg]').forEach((e) => {
    const n = +e.getAttribute('data-pg');
    if (open.indexOf(n) >= 0 || e.closest('[hidden]')) return;
    const inside = e.matches('.q,.rp') ? [e] : Array.from(e.querySelectorAll('.q,.rp'));
    if (inside.some((q) => !q.closest('[hidden]'))) open.push(n);
  });
  return open.sort((a, b) => a - b);
}

function pages() {
  if (!paged) return;
  form.querySelectorAll('.off').forEach((e) => e.classList.remove('off'));
  const open = openPages();
  if (open.indexOf(page) < 0) page = open.filter((n) => n < page).pop() || open[0] || 0;
  form.querySelectorAll('[data-pg]').forEach((e) => { if (+e.getAttribute('data-pg') !== page) e.classList.add('off'); });
  form.querySelectorAll('.g').forEach((g) => {
    if (!g.hasAttribute('data-pg') && g.querySelector('[data-pg]') && !g.querySelector('[data-pg="' + page + '"]')) g.classList.add('off');
  });
  const at = open.indexOf(page), bar = byId('progress');
  form.querySelector('.steps').hidden = false;
  bar.max = Math.max(1, open.length);
  bar.value = at + 1;
  byId('step').textContent = fill(msg.step, { n: at + 1, m: open.length });
  byId('back').hidden = at <= 0;
  byId('next').hidden = at >= open.length - 1;
  byId('send').hidden = at < open.length - 1;
}

// Each page forward is a step in the browser's history, so the phone's Back button goes to the
// previous page of the form rather than out of it (and losing one's place).
function go(step) {
  const state = refresh(), open = openPages(), at = open.indexOf(page);
  if (step > 0 && checkAll(state, page).length) return focusError();
  if (step < 0 && history.state && history.state.pg !== undefined && at > 0) return history.back();
  showPage(open[Math.max(0, Math.min(open.length - 1, at + step))]);
  if (step > 0) history.pushState({ pg: page }, '');
}

function showPage(n) {
  page = n;
  pages();
  const head = form.querySelector('[data-pg="' + page + '"] legend') || form.querySelector('[data-pg="' + page + '"]');
  window.scrollTo(0, form.offsetTop);
  if (head) { head.setAttribute('tabindex', '-1'); head.focus(); }
  // the draft keeps the page it is on (offline.js)
  form.dispatchEvent(new Event('pantau:page'));
}

function focusError() {
  const e = form.querySelector('.err');
  if (!e) return;
  const w = e.parentNode, input = w.querySelector('input,select,textarea');
  if (paged && w.closest('[data-pg]')) { page = pageOf(w); pages(); }
  (input || w).focus();
}

// --- GPS ------------------------------------------------------------------------------------------------
function locate(button) {
  const w = button.closest('.q'), input = w.querySelector('input'), out = w.querySelector('.acc');
  if (!navigator.geolocation) return;
  out.textContent = msg.gps_wait;
  navigator.geolocation.getCurrentPosition((p) => {
    const c = p.coords, acc = Math.round(c.accuracy * 10) / 10;
    input.value = [c.latitude.toFixed(6), c.longitude.toFixed(6), Math.round((c.altitude || 0) * 10) / 10, acc].join(' ');
    out.textContent = fill(msg.gps_acc, { m: acc });
    schedule();
  }, (e) => { out.textContent = fill(msg.gps_fail, { why: e.message || e.code }); }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
}

// --- photos and signatures: scaled in the browser, uploaded at once, kept by their sha256 --------------
function scaled(source, max, type) {
  return new Promise((resolve, reject) => {
    const draw = (img, w, h) => {
      const k = Math.min(1, max / Math.max(w, h)), c = make('canvas');
      c.width = Math.round(w * k);
      c.height = Math.round(h * k);
      const g = c.getContext('2d');
      g.fillStyle = '#fff';
      g.fillRect(0, 0, c.width, c.height);
      g.drawImage(img, 0, 0, c.width, c.height);
      c.toBlob((b) => (b ? resolve(b) : reject(new Error('canvas'))), type, 0.8);
    };
    if (source.tagName === 'CANVAS') return draw(source, source.width, source.height);
    const url = URL.createObjectURL(source), img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); draw(img, img.naturalWidth, img.naturalHeight); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error('image')); };
    img.src = url;
  });
}

function upload(w, source) {
  const key = w.querySelector('input[type=file]').name, hidden = w.querySelector('input[type=hidden]');
  let out = w.querySelector('.st');
  if (!out) { out = make('output', { class: 'st' }); w.insertBefore(out, w.querySelector('.err')); }
  out.textContent = msg.photo_wait;
  const max = +((spec.params[nameOf(key)] || {}).max_pixels) || 1600;
  // Kept on the phone by its sha256; the outbox uploads it before the form that names it.
  const done = scaled(source, max, 'image/jpeg').then((blob) => offline().then((o) => o.keepPhoto(blob, !!config.post)).then((sha) => {
    hidden.value = sha;
    out.textContent = fill(msg.photo_ok, { kb: Math.round(blob.size / 1024) });
    let img = w.querySelector('img.th');
    if (!img) { img = make('img', { class: 'th', alt: msg.photo_kept }); w.insertBefore(img, out); }
    img.src = URL.createObjectURL(blob);
    schedule();
  })).catch((e) => { out.textContent = fill(msg.photo_fail, { why: e.message }); });
  uploads.push(done);
  return done;
}

function signaturePad(w) {
  const c = make('canvas', { class: 'pad', width: '600', height: '240', 'aria-label': msg.sig_help, role: 'img' });
  const clear = make('button', { type: 'button', class: 'alt' }, msg.sig_clear), g = c.getContext('2d');
  let drawing = false, dirty = false, wait = 0;
  const at = (e) => { const r = c.getBoundingClientRect(); return [(e.clientX - r.left) * c.width / r.width, (e.clientY - r.top) * c.height / r.height]; };
  g.lineWidth = 3; g.lineCap = 'round'; g.strokeStyle = '#000';
  c.addEventListener('pointerdown', (e) => { drawing = true; c.setPointerCapture(e.pointerId); const p = at(e); g.beginPath(); g.moveTo(p[0], p[1]); });
  c.addEventListener('pointermove', (e) => { if (!drawing) return; const p = at(e); g.lineTo(p[0], p[1]); g.stroke(); dirty = true; });
  c.addEventListener('pointerup', () => {
    drawing = false;
    clearTimeout(wait);
    if (dirty) wait = setTimeout(() => upload(w, c), 600);
  });
  clear.addEventListener('click', () => { g.clearRect(0, 0, c.width, c.height); dirty = false; w.querySelector('input[type=hidden]').value = ''; schedule(); });
  w.insertBefore(c, w.querySelector('input[type=file]'));
  w.insertBefore(clear, w.querySelector('input[type=file]'));
}

// --- submitting: JSON to the API, the receipt or the errors at their fields ---------------------------
function say(text, alert) {
  const box = byId('msg');
  box.textContent = '';
  box.appendChild(make('p', { class: alert ? 'error' : 'ok' }, text));
}

async function submit() {
  const state = refresh(), bad = checkAll(state);
  if (bad.length) { say(fill(msg.fix, { n: bad.length }), true); return focusError(); }
  const send = byId('send');
  send.disabled = true;
  say(msg.sending);
  try {
    await Promise.all(uploads);
    const body = { instance_id: config.i, form_id: config.id, form_version: config.v, answers: refresh().values };
    // a correction: a new revision of the record sent back
    if (config.b) body.base_revision = config.b;
    const answer = config.post ? await preview(body) : await outbox(body);
    if (answer) refused(answer);
  } catch (e) {
    say(msg.offline, true);
  }
  send.disabled = false;
}

// The server's refusal, each problem at its field, and the first of them in view (after sending, or
// when a refused item from the outbox is reopened to be fixed).
function refused(answer) {
  form.querySelectorAll('ul[data-srv]').forEach((ul) => ul.remove());
  (answer.errors || []).forEach((e) => {
    const key = keyOfPath(e.path), text = config.lang === 'en' ? e.message_en : e.message;
    if (spec.warn.indexOf(e.code) >= 0) { serverWarning(key, text); setError(key, msg.tick); } else setError(key, text);
  });
  say(config.lang === 'en' ? answer.detail : answer.detail_id, true);
  focusError();
}

// Into the phone's outbox first, then one try to send; no signal or no session keeps it there.
// Resolves with the server's refusal to show at the fields, or null when there is none.
async function outbox(body) {
  const o = await offline(), item = await o.queue(body, { title: doc.querySelector('h1').textContent, url: location.pathname + location.search }, spec.name);
  if (item.state === 'sent') receipt(item.receipt);
  else if (item.state !== 'attention' || !item.answer) o.showQueued(form, item);
  else return item.answer;
  return null;
}

// config.post: the editor's preview, straight to the server.
async function preview(body) {
  const r = await fetch(config.post, {
    method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrftoken': csrf() },
  });
  const answer = await r.json();
  if (r.ok) {
    receipt(answer);
    // The editor page around the preview shows the test count: tell it (same origin only).
    if (window.parent !== window) window.parent.postMessage({ pantau: 'test-sent', answer: answer }, location.origin);
  } else if (r.status === 401) say(msg.signin, true);
  else return answer;
  return null;
}

function receipt(answer) {
  form.hidden = true;
  const box = make('section', { class: 'receipt', tabindex: '-1' }), dl = make('dl', { class: 'facts' });
  box.appendChild(make('h2', {}, answer.outcome === 'identical' ? msg.same : msg.sent));
  [[msg.number, answer.instance_id], [msg.received, new Date(answer.received_at).toLocaleString(config.lang === 'en' ? 'en-GB' : 'id-ID')]].forEach((row) => {
    dl.appendChild(make('dt', {}, row[0]));
    dl.appendChild(make('dd', {}, row[1]));
  });
  box.appendChild(dl);
  if ((answer.warnings || []).length) {
    const ul = make('ul', { class: 'warn' });
    answer.warnings.forEach((w) => ul.appendChild(make('li', {}, config.lang === 'en' ? w.message_en : w.message)));
    box.appendChild(ul);
  }
  const again = make('p');
  again.appendChild(make('a', { class: 'button', href: location.pathname + (config.lang === 'en' ? '?lang=en' : '') }, msg.again));
  box.appendChild(again);
  byId('msg').textContent = '';
  form.parentNode.insertBefore(box, form);
  box.focus();
}

// --- wiring ------------------------------------------------------------------------------------------
function onClick(e) {
  const b = e.target.closest('button');
  if (!b) return;
  if (b.classList.contains('gps')) locate(b);
  else if (b.id === 'next') go(1);
  else if (b.id === 'back') go(-1);
}

function onChange(e) {
  const t = e.target;
  if (t.type === 'file' && t.files && t.files[0]) { upload(t.closest('.q'), t.files[0]); t.value = ''; }
  const state = refresh(), p = t.name ? parseKey(t.name) : null;
  if (p && p[1] !== '_konfirmasi') showCheck(t.name, state.values, state.rel);
}

// The rules document is compact on the wire (fill_runtime.runtime_rules); unfold it once.
function unfold(rules) {
  // sent in the order relevance and calculations run
  rules.order = Object.keys(rules.fields);
  rules.order.forEach((n) => { rules.fields[n][2] = rules.scope[n] || []; });
  Object.keys(rules.lists).forEach((n) => {
    const list = rules.lists[n], w = list.w;
    if (w) list.c = [].concat.apply([], Object.keys(w).map((p) => w[p].map((c) => [p ? p + '.' + c[0] : c[0], c[1], { parent: p }])));
  });
  return rules;
}

function attach(rules, mods) {
  spec = unfold(rules);
  msg = rules.msg;
  paged = +byId('progress').max > 1;
  form.querySelectorAll('.err[id^="e-"]').forEach((e) => { shownErrors[e.id.slice(2)] = e.textContent; });
  form.querySelectorAll('.nr').forEach((e) => e.classList.remove('nr'));
  form.querySelectorAll('.gps').forEach((b) => { b.hidden = !navigator.geolocation; });
  form.querySelectorAll('.q.sig').forEach(signaturePad);
  // picker.js (loaded only where the form has a beneficiary question) attaches itself on pantau:siap.
  window.pantauForm = { program: spec.program, msg: msg, refused: refused, at: () => page, open: showPage };
  const F = { pre, hooks, checks, wrapper, part, refresh: schedule, run: refresh, typed: TYPED, instances, keyOf, ctx, stored, signaturePad, offeredCache, fillSelect, fillBoxes, uploads };
  mods.forEach((g) => g.attach(spec, F));
  doc.dispatchEvent(new Event('pantau:siap'));
  form.addEventListener('input', schedule);
  form.addEventListener('change', onChange);
  form.addEventListener('click', onClick);
  if (paged) {
    history.replaceState({ pg: page }, '');
    window.addEventListener('popstate', (e) => { if (e.state && e.state.pg !== undefined) showPage(e.state.pg); });
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!byId('next').hidden) go(1); else submit();
  });
  refresh();
  root.className = 'js';
  root.setAttribute('data-pantau', 'siap');
  // after: the form is usable first
  if (!config.post) offline().then((o) => o.page(form, config)).catch(() => {});
}

// The widgets this form uses (fill_runtime.lazy_modules), fetched beside the rules; each attach(spec, F).
const mods = Promise.all((config.mods || []).map((m) => import('./' + m + '.js')));
fetch(config.rules, { credentials: 'same-origin' }).then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.status))))
  .then((rules) => mods.then((m) => attach(rules, m)))
  // no rules: the page stays the plain HTML form
  .catch(() => { root.className = ''; });
