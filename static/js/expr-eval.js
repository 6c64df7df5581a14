// The form expression language on the phone: the evaluator of server/domain/expr, in JS. This is
// all the fill page loads; the parser and its error messages (only the staff editor needs them)
// live in expr.js, which re-exports everything here. No dependencies; runs in Chrome 61 (Android 8).

const EPS = 1e-12, MAX_INPUT = 1000;
export const MAX_PATTERN = 200;
const own = (o, k) => (o && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);

// --- values -------------------------------------------------------------------------------------
export const first = (v) => (Array.isArray(v) ? (v.length ? v[0] : '') : v);
const trimJava = (s) => s.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '');
const NUMBER = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

export function toBoolean(v) {
  v = first(v);
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return Math.abs(v) > EPS;
  return typeof v === 'string' && v !== '';
}

export function toNumber(v) {
  v = first(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return NaN;
  const t = trimJava(v);
  if (t.length >= 10 && t[4] === '-') {
    const m = parseIso(t);
    if (m) return m.days;
  }
  const u = t.replace(/,/g, '.');
  return NUMBER.test(u) ? parseFloat(u) : NaN;
}

export function toString(v) {
  v = first(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v !== 'number') return '';
  if (v !== v) return 'NaN';
  if (v === Infinity || v === -Infinity) return v > 0 ? 'Infinity' : '-Infinity';
  if (Math.abs(v) < EPS) return '0';
  const r = Math.round(v);
  return plain(String(Math.abs(v - r) < EPS ? r : v));
}

// Shortest round-trip digits without an exponent: '1.23e+21' -> '1230000000000000000000'.
function plain(s) {
  const neg = s[0] === '-', parts = (neg ? s.slice(1) : s).split('e'), dot = parts[0].indexOf('.');
  const whole = dot < 0 ? parts[0] : parts[0].slice(0, dot), frac = dot < 0 ? '' : parts[0].slice(dot + 1);
  let digits = whole + frac, point = whole.length + (parts[1] ? parseInt(parts[1], 10) : 0);
  const st = digits.replace(/^0+/, '');
  point -= digits.length - st.length;
  digits = st.replace(/0+$/, '');
  if (!digits) return '0';
  const t = point <= 0 ? '0.' + '0'.repeat(-point) + digits
    : point >= digits.length ? digits + '0'.repeat(point - digits.length) : digits.slice(0, point) + '.' + digits.slice(point);
  return neg ? '-' + t : t;
}

export function equals(a, b) {
  a = first(a);
  b = first(b);
  if (typeof a === 'boolean' || typeof b === 'boolean') return toBoolean(a) === toBoolean(b);
  if (typeof a === 'number' || typeof b === 'number') {
    const x = toNumber(a), y = toNumber(b);
    return x === y || Math.abs(x - y) < EPS;
  }
  return a === b;
}

export function norm(raw) {
  if (raw === null || raw === undefined) return '';
  const t = typeof raw;
  if (t === 'string' || t === 'number' || t === 'boolean') return raw;
  if (Array.isArray(raw)) return raw.filter((x) => !isObj(x) && !Array.isArray(x)).map((x) => toString(norm(x))).join(' ');
  return '';
}

// --- dates: the digits as written, no time zone database (see dates.py) ----------------------
const ISO = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$/;
const FIRST_DAY = -719162, LAST_DAY = 2932896;
export const DAY_MS = 86400000;
const fl = Math.floor;

function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = fl(y / 400), yoe = y - era * 400;
  const doy = fl((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + fl(yoe / 4) - fl(yoe / 100) + doy - 719468;
}

function civilFromDays(days) {
  const z = days + 719468, era = fl(z / 146097), doe = z - era * 146097;
  const yoe = fl((doe - fl(doe / 1460) + fl(doe / 36524) - fl(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + fl(yoe / 4) - fl(yoe / 100)), mp = fl((5 * doy + 2) / 153);
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, doy - fl((153 * mp + 2) / 5) + 1];
}

export function parseIso(s) {
  const g = s.length > 64 ? null : ISO.exec(s);
  if (!g) return null;
  const y = +g[1], mo = +g[2], d = +g[3], h = +(g[4] || 0), mi = +(g[5] || 0), se = +(g[6] || 0);
  const dim = mo === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].indexOf(mo) >= 0 ? 30 : 31;
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > dim || h > 23 || mi > 59 || se > 59) return null;
  let off = 0;
  const z = g[8];
  if (z && z !== 'Z') {
    const oh = +z.slice(1, 3), om = z.length > 3 ? +z.slice(-2) : 0;
    if (oh > 23 || om > 59) return null;
    off = (oh * 60 + om) * (z[0] === '-' ? -1 : 1);
  }
  const ms = ((h * 60 + mi) * 60 + se) * 1000 + +((g[7] || '') + '000').slice(0, 3);
  return { days: daysFromCivil(y, mo, d), ms: ms, off: off, zone: !!z };
}

const pad = (n, w) => String(n).padStart(w, '0');

export function isoDate(days) {
  if (!(days >= FIRST_DAY && days <= LAST_DAY)) return '';
  const c = civilFromDays(Math.trunc(days));
  return pad(c[0], 4) + '-' + pad(c[1], 2) + '-' + pad(c[2], 2);
}

function isoMoment(days, ms, off, zone) {
  const sign = off < 0 ? '-' : '+', a = Math.abs(off);
  return isoDate(days) + 'T' + pad(fl(ms / 3600000), 2) + ':' + pad(fl(ms / 60000) % 60, 2) + ':' + pad(fl(ms / 1000) % 60, 2) +
    '.' + pad(ms % 1000, 3) + (zone ? sign + pad(fl(a / 60), 2) + ':' + pad(a % 60, 2) : '');
}

function nowIso(now) {
  if (now instanceof Date) {
    const off = -now.getTimezoneOffset();
    const days = daysFromCivil(now.getFullYear(), now.getMonth() + 1, now.getDate());
    const ms = ((now.getHours() * 60 + now.getMinutes()) * 60 + now.getSeconds()) * 1000 + now.getMilliseconds();
    return isoMoment(days, ms, off, true);
  }
  const m = typeof now === 'string' && now.indexOf('T') > 0 ? parseIso(now) : null;
  return m ? isoMoment(m.days, m.ms, m.off, m.zone) : now === undefined ? nowIso(new Date()) : toString(now);
}

function momentOfNumber(n) {
  if (!(n >= FIRST_DAY - 1 && n <= LAST_DAY + 1)) return null;
  const total = Math.trunc(n * DAY_MS), whole = fl(total / DAY_MS);
  return whole >= FIRST_DAY && whole <= LAST_DAY ? { days: whole, ms: total - whole * DAY_MS } : null;
}

const NAMES = {
  id: ['Jan Feb Mar Apr Mei Jun Jul Agu Sep Okt Nov Des', 'Min Sen Sel Rab Kam Jum Sab'],
  en: ['Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec', 'Sun Mon Tue Wed Thu Fri Sat'],
};

function formatMoment(m, pattern, lang) {
  const c = civilFromDays(m.days), ms = m.ms, h = fl(ms / 3600000), names = NAMES[lang];
  const f = {
    Y: pad(c[0], 4), y: pad(c[0] % 100, 2), m: pad(c[1], 2), n: String(c[1]), b: names[0].split(' ')[c[1] - 1],
    d: pad(c[2], 2), e: String(c[2]), a: names[1].split(' ')[(((m.days + 4) % 7) + 7) % 7],
    H: pad(h, 2), h: String(h), M: pad(fl(ms / 60000) % 60, 2), S: pad(fl(ms / 1000) % 60, 2), 3: pad(ms % 1000, 3), '%': '%',
  };
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const k = pattern[i + 1];
    if (pattern[i] === '%' && k !== undefined && own(f, k) !== undefined) { out += f[k]; i++; } else out += pattern[i];
  }
  return out;
}

// --- regex: the subset both engines read alike (see safe_regex.py) ---------------------------
const WS = '\\u0020\\u0009\\u000a\\u000d\\u000c\\u000b';
const ESC = { d: '[0-9]', D: '[^0-9]', w: '[A-Za-z0-9_]', W: '[^A-Za-z0-9_]', s: '[' + WS + ']', S: '[^' + WS + ']' };
const CLASS_ESC = { d: '0-9', w: 'A-Za-z0-9_', s: WS };
const CONTROL = { n: '\n', t: '\t', r: '\r' };
const PUNCT = '\\^$.|?*+()[]{}/-';
const COUNT = /^\{([0-9]{1,4})(,([0-9]{0,4}))?\}/;

function rejected(reason) {
  const e = new Error('regex: ' + reason);
  e.reason = reason;
  return e;
}

function lit(c) {
  const n = c.codePointAt(0);
  return n < 128 && !/[A-Za-z0-9]/.test(c) ? '\\u' + pad(n.toString(16), 4) : c;
}

// Also used by the parser (expr.js) to refuse a pattern when the expression is read.
export function translate(pattern, dollar) {
  const p = Array.from(pattern);
  if (p.length > MAX_PATTERN) throw rejected('too_long');
  const out = [], frames = [{ look: false, cx: false }];
  let last = null, i = 0;
  while (i < p.length) {
    const c = p[i];
    if (c === '(') {
      const two = p.slice(i + 1, i + 3).join(''), kind = ['?:', '?=', '?!'].indexOf(two) >= 0 ? two : '';
      if (!kind && p[i + 1] === '?') throw rejected('group');
      frames.push({ look: kind === '?=' || kind === '?!', cx: false });
      out.push('(' + kind);
      i += 1 + kind.length;
      last = null;
    } else if (c === ')') {
      if (frames.length === 1) throw rejected('close');
      const f = frames.pop();
      frames[frames.length - 1].cx = frames[frames.length - 1].cx || f.cx;
      out.push(')');
      last = f.look ? null : f.cx;
      i++;
    } else if ('*+?{'.indexOf(c) >= 0) {
      i = quantifier(p, i, last, frames[frames.length - 1], out);
      last = null;
    } else {
      if (c === '|') { frames[frames.length - 1].cx = true; out.push('|'); last = null; }
      else if (c === '^' || c === '$') { out.push(c === '^' ? '^' : dollar); last = null; }
      else if (c === '.') { out.push('[^\\u000a\\u000d\\u2028\\u2029]'); last = false; }
      else if (c === '[') { i = charClass(p, i, out) - 1; last = false; }
      else if (c === '\\') { out.push(escape(p, i)); i++; last = false; }
      else if (c === ']' || c === '}') throw rejected('literal');
      else { out.push(lit(c)); last = false; }
      i++;
    }
  }
  if (frames.length > 1) throw rejected('paren');
  return out.join('');
}

function quantifier(p, i, last, frame, out) {
  const c = p[i];
  let text = c, end = i + 1, hi = c === '*' || c === '+' ? null : 1;
  if (c === '{') {
    const g = COUNT.exec(p.slice(i, i + 12).join(''));
    if (!g) throw rejected('literal');
    const lo = +g[1];
    hi = g[2] === undefined ? lo : g[3] ? +g[3] : null;
    if (lo > 1000 || (hi !== null && (hi > 1000 || hi < lo))) throw rejected('count');
    text = g[0];
    end = i + g[0].length;
  }
  if (last === null) throw rejected('nothing');
  if (last && (hi === null || hi > 1)) throw rejected('nested');
  frame.cx = true;
  if (p[end] === '?') { text += '?'; end++; }
  out.push(text);
  return end;
}

function escape(p, i) {
  const c = p[i + 1];
  if (c === undefined) throw rejected('escape');
  if (own(ESC, c)) return ESC[c];
  if (own(CONTROL, c)) return lit(CONTROL[c]);
  if (PUNCT.indexOf(c) >= 0) return lit(c);
  throw rejected('escape');
}

function classItem(p, i) {
  const c = p[i];
  if (c === '[') throw rejected('literal');
  if (c !== '\\') return [c, lit(c), i + 1];
  if (i + 1 >= p.length) throw rejected('class');
  let e = p[i + 1];
  if (own(CLASS_ESC, e)) return [null, CLASS_ESC[e], i + 2];
  if (own(CONTROL, e)) e = CONTROL[e];
  else if (PUNCT.indexOf(e) < 0) throw rejected('escape');
  return [e, lit(e), i + 2];
}

function charClass(p, i, out) {
  i++;
  const neg = p[i] === '^';
  if (neg) i++;
  const parts = [];
  while (i < p.length && p[i] !== ']') {
    let it = classItem(p, i), text = it[1];
    i = it[2];
    if (it[0] !== null && p[i] === '-' && i + 1 < p.length && p[i + 1] !== ']') {
      const e = classItem(p, i + 1);
      if (e[0] === null || e[0].codePointAt(0) < it[0].codePointAt(0)) throw rejected('class');
      text += '-' + e[1];
      i = e[2];
    }
    parts.push(text);
  }
  if (i >= p.length || !parts.length) throw rejected('class');
  out.push('[' + (neg ? '^' : '') + parts.join('') + ']');
  return i + 1;
}

const compiled = new Map();

function regexMatches(text, pattern) {
  if (text.length > MAX_INPUT && Array.from(text).length > MAX_INPUT) return false;
  if (!compiled.has(pattern)) {
    let re = null;
    try { re = new RegExp(translate(pattern, '$'), 'u'); } catch (e) { re = null; }
    if (compiled.size >= 512) compiled.clear();
    compiled.set(pattern, re);
  }
  const re = compiled.get(pattern);
  return re !== null && re.test(text);
}

// --- functions: the same registry as builtins.py (expr-more.js adds the rarely used ones, as odk.py);
// [min, max|null, impl, lazy] ------------------------------------------------------------------
export const items = (v) => (Array.isArray(v) ? v : [v]);
export const choices = (v) => toString(v).split(' ').filter((x) => x);
export const javaInt = (n) => (n !== n ? 0 : n >= 2147483647 ? 2147483647 : n <= -2147483648 ? -2147483648 : Math.trunc(n));

function roundDecimal(x, places) {
  if (!isFinite(x)) return x;
  if (places < -30 || places > 30) return NaN;
  const neg = x < 0, parts = String(Math.abs(x)).split('e'), dot = parts[0].indexOf('.');
  const whole = dot < 0 ? parts[0] : parts[0].slice(0, dot), digits = whole + (dot < 0 ? '' : parts[0].slice(dot + 1));
  const keep = whole.length + (parts[1] ? parseInt(parts[1], 10) : 0) + places;
  if (keep >= digits.length) return x;
  if (keep < 0) return neg ? -0 : 0;
  const tail = digits.slice(keep), tie = tail[0] === '5' && /^0*$/.test(tail.slice(1));
  const up = tail[0] > '5' || (tail[0] === '5' && !(tie && neg));
  const r = parseFloat(String(parseInt(digits.slice(0, keep) || '0', 10) + (up ? 1 : 0)) + 'e' + -places);
  return neg ? -r : r;
}

export function formatDate(a) {
  const v = first(a[0]);
  const m = typeof v === 'boolean' ? null : typeof v === 'string' ? parseIso(v) : momentOfNumber(toNumber(v));
  if (!m) return '';
  const lang = a.length > 2 ? trimJava(toString(a[2])).toLowerCase() : '';
  return formatMoment(m, toString(a[1]), lang.slice(0, 2) === 'en' ? 'en' : 'id');
}

function coalesce(args, ctx) {
  let v = '';
  for (const n of args) {
    v = first(ev(n, ctx));
    if (!(v === '' || (typeof v === 'number' && v !== v))) return v;
  }
  return v;
}

function intOf(a) {
  const n = toNumber(a[0]);
  return isFinite(n) ? Math.trunc(n) : n;
}

export const FN = {
  if: [3, 3, (a, ctx) => (toBoolean(ev(a[0], ctx)) ? ev(a[1], ctx) : ev(a[2], ctx)), true],
  coalesce: [2, null, coalesce, true],
  not: [1, 1, (a) => !toBoolean(a[0])],
  true: [0, 0, () => true],
  false: [0, 0, () => false],
  boolean: [1, 1, (a) => toBoolean(a[0])],
  selected: [2, 2, (a) => choices(a[0]).indexOf(trimJava(toString(a[1]))) >= 0],
  'count-selected': [1, 1, (a) => choices(a[0]).length],
  'string-length': [0, 1, (a, ctx) => Array.from(toString(a.length ? a[0] : norm(ctx.current))).length],
  regex: [2, 2, (a) => regexMatches(toString(a[0]), toString(a[1]))],
  contains: [2, 2, (a) => toString(a[0]).indexOf(toString(a[1])) >= 0],
  'starts-with': [2, 2, (a) => toString(a[0]).startsWith(toString(a[1]))],
  'ends-with': [2, 2, (a) => toString(a[0]).endsWith(toString(a[1]))],
  concat: [1, null, (a) => a.map((v) => items(v).map(toString).join('')).join('')],
  string: [1, 1, (a) => toString(a[0])],
  number: [1, 1, (a) => toNumber(a[0])],
  int: [1, 1, intOf],
  round: [1, 2, (a) => roundDecimal(toNumber(a[0]), a.length > 1 ? javaInt(toNumber(a[1])) : 0)],
  today: [0, 0, (a, ctx) => (ctx.today ? toString(ctx.today) : nowIso(new Date()).slice(0, 10))],
  now: [0, 0, (a, ctx) => nowIso(ctx.now)],
  'format-date': [2, 3, formatDate],
  sum: [1, 1, (a) => { let t = 0; for (const v of items(a[0])) { const n = toNumber(v); if (n === n) t += n; } return t; }],
  count: [1, 1, (a) => items(a[0]).length],
  position: [0, 1, (a, ctx) => { const p = ctx.position || []; return p.length ? p[p.length - 1][1] + 1 : 1; }],
};

// --- evaluation -----------------------------------------------------------------------------------
export function lookup(name, ctx) {
  const path = own(ctx.scope, name), pos = ctx.position || [];
  if (!path || !path.length) return valueAt(ctx.answers, name, ctx);
  let nodes = [ctx.answers], fanned = false;
  path.forEach((rep, depth) => {
    if (!fanned && depth < pos.length && pos[depth][0] === rep) {
      const inst = nodes.length ? instances(own(nodes[0], rep)) : [], k = pos[depth][1];
      nodes = typeof k === 'number' && k % 1 === 0 && k >= 0 && k < inst.length ? [inst[k]] : [];
    } else {
      fanned = true;
      nodes = [].concat.apply([], nodes.map((n) => instances(own(n, rep))));
    }
  });
  if (!fanned) return nodes.length ? valueAt(nodes[0], name, ctx) : '';
  return [].concat.apply([], nodes.map((n) => items(valueAt(n, name, ctx))));
}

const instances = (raw) => (Array.isArray(raw) ? raw.filter(isObj) : []);

function valueAt(node, name, ctx) {
  const raw = own(node, name), list = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : null;
  if (list) {
    const rep = list.length ? list.every(isObj) : Object.keys(ctx.scope).some((k) => (ctx.scope[k] || []).indexOf(name) >= 0);
    if (rep) return list.map(() => '');
  }
  return norm(raw);
}

const ARITH = {
  '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, div: (a, b) => a / b,
  mod: (a, b) => (b === 0 || !isFinite(a) ? NaN : a % b),
  '<': (a, b) => a < b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b,
};

export function ev(n, ctx) {
  switch (n.t) {
    case 'num': return toNumber(n.v);
    case 'str': return toString(n.v);
    case 'ref': return lookup(n.name, ctx);
    case 'cur': return norm(ctx.current);
    case 'neg': return -toNumber(ev(n.arg, ctx));
    case 'bin': {
      if (n.op === 'and') return toBoolean(ev(n.left, ctx)) && toBoolean(ev(n.right, ctx));
      if (n.op === 'or') return toBoolean(ev(n.left, ctx)) || toBoolean(ev(n.right, ctx));
      if (n.op === '=') return equals(ev(n.left, ctx), ev(n.right, ctx));
      if (n.op === '!=') return !equals(ev(n.left, ctx), ev(n.right, ctx));
      const f = own(ARITH, n.op);
      return f ? f(toNumber(ev(n.left, ctx)), toNumber(ev(n.right, ctx))) : '';
    }
    case 'call': {
      const def = own(FN, n.fn), args = n.args || [];
      if (!def || args.length < def[0] || (def[1] !== null && args.length > def[1])) return '';
      return def[3] ? def[2](args, ctx) : def[2](args.map((a) => ev(a, ctx)), ctx);
    }
  }
  const f = own(NODES, n.t);
  return f ? f(n, ctx) : '';
}

// instance paths, added by expr-more.js
export const NODES = {};

// ctx = {answers, current, scope, position: [[repeat, index], ...], today: 'YYYY-MM-DD', now: ISO string or Date,
// instances: {name: [{column: text}]}, lists: {select question: its list}}
export function evaluate(ast, ctx) {
  const c = ctx || {};
  try {
    return ev(ast, Object.assign({}, c, { answers: c.answers || {}, scope: c.scope || {}, position: c.position || [], row: null }));
  } catch (e) {
    // evaluation is total, as on the server: a broken rule must not block the form
    return '';
  }
}
