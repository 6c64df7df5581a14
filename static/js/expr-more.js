// The functions forms call rarely: the ODK ones forms brought from XLSForm use (server/domain/expr/odk.py)
// and a few built-ins no shipped form calls on the phone. The fill page loads this file only for a
// form that calls one of them (odk.MORE_JS, fill_context.expr_assets), so the other forms' first load
// stays within its weight budget.
import {
  FN, NODES, DAY_MS, choices, ev, equals, first, items, isoDate, lookup, norm, javaInt, formatDate, parseIso, toBoolean, toNumber,
  toString,
} from './expr-eval.js';

const MAX_UUID = 1000, ALNUM = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const FIELD_TEXT = /^\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/;
const own = (o, k) => (o && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);

function random(n) {
  const a = new Uint8Array(n);
  crypto.getRandomValues(a);
  return Array.from(a);
}

// RFC 4122 version 4, as Python's uuid.uuid4(); uuid(n): n letters and digits.
function uuid(a) {
  if (!a.length) {
    const b = random(16).map((x, i) => (i === 6 ? (x & 15) | 64 : i === 8 ? (x & 63) | 128 : x));
    const h = b.map((x) => (x < 16 ? '0' : '') + x.toString(16)).join('');
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join('-');
  }
  const n = Math.min(Math.max(0, javaInt(toNumber(a[0]))), MAX_UUID);
  let out = '';
  while (out.length < n) random(n).forEach((x) => { if (x < 248 && out.length < n) out += ALNUM[x % 62]; }); // 248 = 4 * 62: no bias
  return out;
}

function substr(a) {
  const s = Array.from(toString(a[0])), n = s.length;
  let st = javaInt(toNumber(a[1])), en = a.length > 2 ? javaInt(toNumber(a[2])) : n;
  if (st < 0) st += n;
  if (en < 0) en += n;
  st = Math.min(Math.max(0, st), n);
  en = Math.min(Math.max(0, en), n);
  return st <= en ? s.slice(st, en).join('') : '';
}

function dateOf(a) {
  const v = first(a[0]);
  if (typeof v === 'boolean') return '';
  if (typeof v === 'string') { const m = parseIso(v); return m ? isoDate(m.days) : ''; }
  return isoDate(toNumber(v));
}

function decimalDateTime(a) {
  const v = first(a[0]);
  if (typeof v === 'boolean') return NaN;
  if (typeof v === 'string') {
    if (v === '') return '';
    const m = parseIso(v);
    return m ? m.days + (m.ms - m.off * 60000) / DAY_MS : NaN;
  }
  const n = toNumber(v);
  return isFinite(n) ? n : NaN;
}

const numbers = (a) => [].concat.apply([], a.map(items)).map(toNumber).filter((x) => x === x);
const pick = (a, less) => { const n = numbers(a); let m = NaN; for (let k = 0; k < n.length; k++) if (k === 0 || less(n[k], m)) m = n[k]; return m; };

function once(args, ctx) {
  const c = norm(ctx.current);
  return c !== '' ? c : ev(args[0], ctx);
}

// --- secondary instances: ctx.instances = {name: [{column: text}]} (choice lists and CSVs) ----------
function rowsOf(ctx, name) {
  const rows = own(ctx.instances, name);
  return Array.isArray(rows) ? rows.filter(isObj) : [];
}

const rowText = (r) => Object.keys(r).map((k) => toString(norm(r[k]))).join('');

// instance('id')/root/item[...]/get: inside [...] '.' is the row and a bare name its column; a
// number n means the n-th row.
NODES.inst = (n, ctx) => {
  let rows = rowsOf(ctx, n.id);
  (n.where || []).forEach((w) => {
    rows = rows.filter((r, k) => {
      const v = ev(w, Object.assign({}, ctx, { row: r, current: rowText(r) }));
      return typeof v === 'number' ? v === k + 1 : toBoolean(v);
    });
  });
  const get = n.get;
  return get ? rows.filter((r) => own(r, get) !== undefined).map((r) => toString(norm(r[get]))) : rows.map(rowText);
};
NODES.col = (n, ctx) => (ctx.row ? norm(own(ctx.row, n.name)) : '');

function pulldata(a, ctx) {
  const col = toString(a[1]), key = toString(a[2]), wanted = first(a[3]);
  const row = rowsOf(ctx, toString(a[0])).filter((r) => own(r, key) !== undefined && equals(norm(r[key]), wanted))[0];
  return row ? toString(norm(own(row, col))) : '';
}

function choiceName(a, ctx) {
  const m = FIELD_TEXT.exec(toString(a[1])), chosen = toString(a[0]);
  const row = m ? rowsOf(ctx, own(ctx.lists, m[1]) || '').filter((r) => toString(norm(own(r, 'name'))) === chosen)[0] : null;
  return row ? toString(norm(own(row, 'label'))) : '';
}

// indexed-repeat(${field}, ${repeat}, n, ...): the field in the n-th instance; an enclosing repeat
// not named stays at the current instance.
function indexedRepeat(a, ctx) {
  const field = a[0].name, chosen = {}, pos = [], cur = ctx.position || [];
  for (let k = 1; k + 1 < a.length; k += 2) chosen[a[k].name] = javaInt(toNumber(ev(a[k + 1], ctx))) - 1;
  const path = own(ctx.scope, field) || [];
  for (let d = 0; d < path.length; d++) {
    if (own(chosen, path[d]) !== undefined) pos.push([path[d], chosen[path[d]]]);
    else if (d < cur.length && cur[d][0] === path[d]) pos.push(cur[d]);
    else break;
  }
  return lookup(field, Object.assign({}, ctx, { position: pos }));
}

Object.assign(FN, {
  'selected-at': [2, 2, (a) => { const c = choices(a[0]), k = javaInt(toNumber(a[1])); return k >= 0 && k < c.length ? c[k] : ''; }],
  substr: [2, 3, substr],
  date: [1, 1, dateOf],
  'decimal-date-time': [1, 1, decimalDateTime],
  min: [1, null, (a) => pick(a, (x, m) => x < m)],
  max: [1, null, (a) => pick(a, (x, m) => x > m)],
  pulldata: [4, 4, pulldata],
  'jr:choice-name': [2, 2, choiceName],
  'indexed-repeat': [3, 7, indexedRepeat, true],
  'count-non-empty': [1, 1, (a) => items(a[0]).filter((v) => toString(v) !== '').length],
  join: [2, null, (a) => { const s = toString(a[0]); return [].concat.apply([], a.slice(1).map(items)).map(toString).join(s); }],
  once: [1, 1, once, true],
  uuid: [0, 1, uuid],
  random: [0, 0, () => Math.random()],
  'format-date-time': [2, 3, formatDate],
});
