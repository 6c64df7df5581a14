// The ODK functions that forms brought from XLSForm use and Pantau's own forms rarely do, as
// server/domain/expr/odk.py: the fill page loads this file only for a form that calls one of them
// (fill_context.expr_assets), so the other forms' first load stays within its weight budget.
import { FN, ev, items, norm, javaInt, formatDate, toNumber, toString } from './expr-eval.js';

const MAX_UUID = 1000, ALNUM = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

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

function once(args, ctx) {
  const c = norm(ctx.current);
  return c !== '' ? c : ev(args[0], ctx);
}

Object.assign(FN, {
  'count-non-empty': [1, 1, (a) => items(a[0]).filter((v) => toString(v) !== '').length],
  join: [2, null, (a) => { const s = toString(a[0]); return [].concat.apply([], a.slice(1).map(items)).map(toString).join(s); }],
  once: [1, 1, once, true],
  uuid: [0, 1, uuid],
  'format-date-time': [2, 3, formatDate],
});
