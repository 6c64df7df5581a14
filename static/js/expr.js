// The form expression language for form authors: the parser of server/domain/expr, in JS, with its
// error messages. parse() builds the same JSON AST as Python's to_json(parse()); evaluation lives in
// expr-eval.js (re-exported here), which is all the phone loads. tests/expr_vectors.json holds both
// to Python's results. No dependencies; runs in Chrome 61 (Android 8).

import { FN, MAX_PATTERN, translate } from './expr-eval.js';
import './expr-more.js'; // the editor knows every function; the fill page loads these only where used
import './expr-digest.js';

export { evaluate, toBoolean, toNumber, toString } from './expr-eval.js';

// The names and argument counts, for the parity test against Python's FUNCTIONS.
export const FUNCTIONS = Object.keys(FN).map((k) => ({ name: k, min: FN[k][0], max: FN[k][1] }));

const MAX_LENGTH = 4000, MAX_DEPTH = 100, DIGESTS = ['MD5', 'SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
const own = (o, k) => (o && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

// --- errors: the same templates as server/domain/expr/errors.py ------------------------------
const S = 'syntax', L = 'too_long', CALC = ' Pecah menjadi beberapa pertanyaan calculate.';
const CALC_EN = ' Split it into several calculate questions.';
const MSG = {
  empty: [S, 'Ekspresi kosong. Tulis sebuah ekspresi, misalnya ${umur} >= 17.', 'The expression is empty. Write one, for example ${umur} >= 17.'],
  too_long: [L, 'Ekspresi terlalu panjang ({n} karakter, batas {max}).' + CALC, 'The expression is too long ({n} characters, limit {max}).' + CALC_EN],
  too_deep: [L, 'Ekspresi terlalu bertingkat (lebih dari {max} tingkat kurung, fungsi atau tanda minus). Sederhanakan atau pecah menjadi beberapa pertanyaan calculate.',
    'The expression is nested too deeply (more than {max} levels of brackets, functions or minus signs). Simplify it or split it into several calculate questions.'],
  bad_char: [S, "Karakter '{text}' tidak dikenal. Hapus atau ganti karakter itu.", "Unknown character '{text}'. Remove or replace it."],
  unterminated: [S, 'Teks yang dibuka dengan {text} tidak ditutup. Tambahkan {text} penutup.', 'The text opened with {text} is not closed. Add the closing {text}.'],
  bad_ref: [S, 'Rujukan tidak lengkap. Tulis nama pertanyaan seperti ${nama_pertanyaan}.', 'Incomplete reference. Write a question name like ${question_name}.'],
  path: [S, "Jalur XPath seperti '{text}' tidak didukung. Rujuk pertanyaan dengan ${nama}.", "XPath paths such as '{text}' are not supported. Refer to a question with ${name}."],
  use: [S, "Tanda '{text}' tidak dipakai dalam ekspresi. Gunakan '{fix}'.", "'{text}' is not used in expressions. Use '{fix}'."],
  bare_name: [S, "'{text}' tidak dikenal. Untuk merujuk pertanyaan tulis ${{text}}; untuk fungsi tambahkan kurung: {text}().",
    "'{text}' is unknown. To refer to a question write ${{text}}; for a function add brackets: {text}()."],
  operator_word: [S, "'{text}' adalah operator dan perlu nilai di kedua sisinya, misalnya ${a} {text} ${b}.", "'{text}' is an operator and needs a value on both sides, for example ${a} {text} ${b}."],
  expected_operator: [S, "Ada '{text}' yang tidak diharapkan; mungkin kurang operator (misalnya and, or, =, +) sebelumnya.", "Unexpected '{text}'; perhaps an operator (such as and, or, =, +) is missing before it."],
  expected_value: [S, "Di sini seharusnya ada nilai (angka, 'teks', ${nama} atau fungsi), bukan '{text}'.", "A value (a number, 'text', ${name} or a function) is expected here, not '{text}'."],
  end: [S, 'Ekspresi berakhir terlalu cepat. Lengkapi bagian terakhirnya.', 'The expression ends too early. Complete its last part.'],
  unclosed: [S, "Kurung '(' ini tidak ditutup. Tambahkan ')'.", "This '(' is not closed. Add a ')'."],
  unexpected: [S, "Tanda '{text}' tidak diharapkan di sini. Periksa kurung dan koma di sekitarnya.", "'{text}' is not expected here. Check the brackets and commas around it."],
  dotdot: [S, "'..' hanya boleh dipakai sebagai position(..).", "'..' can only be used as position(..)."],
  position_arg: [S, "position() hanya menerima '..'; tulis position(..).", "position() only accepts '..'; write position(..)."],
  instance_name: [S, "instance() perlu nama daftar pilihan atau berkas CSV sebagai teks, misalnya instance('desa').",
    "instance() takes the name of a choice list or CSV file as text, for example instance('desa')."],
  instance_path: [S, "Setelah instance('...') tulis /root/item, lalu [syarat] dan /kolom bila perlu, misalnya instance('desa')/root/item[name = ${desa}]/label.",
    "After instance('...') write /root/item, then [condition] and /column if needed, for example instance('desa')/root/item[name = ${desa}]/label."],
  unclosed_bracket: [S, "Kurung '[' ini tidak ditutup. Tambahkan ']'.", "This '[' is not closed. Add a ']'."],
  indexed_repeat: [S, 'indexed-repeat() perlu ${pertanyaan}, lalu pasangan ${grup_berulang} dan nomor, misalnya indexed-repeat(${nama}, ${anggota}, 2).',
    'indexed-repeat() takes ${question}, then pairs of ${repeat} and a number, for example indexed-repeat(${nama}, ${anggota}, 2).'],
  choice_name: [S, "Argumen kedua jr:choice-name() adalah nama pertanyaan pilihan sebagai teks, misalnya jr:choice-name(${jk}, '${jk}').",
    "The second argument of jr:choice-name() is the select question's name as text, for example jr:choice-name(${jk}, '${jk}')."],
  digest_algorithm: [S, "digest() mengenal 'MD5', 'SHA-1', 'SHA-256', 'SHA-384' dan 'SHA-512' (huruf besar, seperti ODK).",
    "digest() knows 'MD5', 'SHA-1', 'SHA-256', 'SHA-384' and 'SHA-512' (upper case, as ODK)."],
  digest_encoding: [S, "Penulisan hasil digest() adalah 'base64' (bawaan) atau 'hex'.", "digest() writes its result as 'base64' (the default) or 'hex'."],
  number_too_big: [S, "Angka '{text}' terlalu besar.", "The number '{text}' is too large."],
  regex: [S, 'Pola regex tidak didukung: {reason_id}.', 'The regex pattern is not supported: {reason_en}.'],
  regex_too_long: [L, 'Pola regex terlalu panjang ({n} karakter, batas {max}). Persingkat polanya.', 'The regex pattern is too long ({n} characters, limit {max}). Shorten it.'],
  unknown_function_hint: ['unknown_function', "Fungsi '{text}' tidak dikenal. Maksud Anda '{fix}'?", "Unknown function '{text}'. Did you mean '{fix}'?"],
  unknown_function: ['unknown_function', "Fungsi '{text}' tidak dikenal. Periksa ejaannya; daftar fungsi ada di panduan ekspresi.",
    "Unknown function '{text}'. Check the spelling; the functions are listed in the expression guide."],
  arity_exact: ['arity', 'Fungsi {text}() perlu {min} argumen, tetapi diberi {n}.', 'Function {text}() takes {min} argument(s) but was given {n}.'],
  arity_range: ['arity', 'Fungsi {text}() perlu {min} sampai {max} argumen, tetapi diberi {n}.', 'Function {text}() takes {min} to {max} arguments but was given {n}.'],
  arity_min: ['arity', 'Fungsi {text}() perlu paling sedikit {min} argumen, tetapi diberi {n}.', 'Function {text}() takes at least {min} argument(s) but was given {n}.'],
};
const REASONS = {
  paren: ["kurung '(' tidak ditutup", "an opening '(' is not closed"],
  close: ["kurung ')' tidak punya pasangan '('", "a ')' has no matching '('"],
  nothing: ['tanda pengulang tidak punya sesuatu untuk diulang', 'a repeat sign has nothing to repeat'],
  nested: ['pengulangan bertingkat seperti (a+)+ bisa membuat ponsel macet; tulis tanpa pengulangan di dalam kurung',
    'nested repetition such as (a+)+ can freeze the phone; write it without repetition inside the brackets'],
  count: ['jumlah ulang {n,m} tidak valid atau lebih dari 1000', 'invalid repeat count {n,m} or more than 1000'],
  literal: ['tanda [ ] { } harus ditulis dengan \\ di depannya', 'the signs [ ] { } must be written with a \\ before them'],
  escape: ['hanya \\d \\w \\s \\D \\W \\S \\n \\t \\r dan \\ sebelum tanda baca yang didukung', 'only \\d \\w \\s \\D \\W \\S \\n \\t \\r and \\ before punctuation are supported'],
  class: ['kelompok [...] kosong, tidak ditutup, atau rentangnya terbalik', 'a [...] class is empty, not closed, or has a reversed range'],
  group: ['hanya (...), (?:...), (?=...) dan (?!...) yang didukung', 'only (...), (?:...), (?=...) and (?!...) are supported'],
};

function fill(t, p) {
  for (const k in p) t = t.split('{' + k + '}').join(String(p[k]));
  return t;
}

function fail(kind, column, p) {
  const m = MSG[kind];
  const e = new Error(fill(m[2], p || {}));
  e.code = 'expr.' + m[0];
  e.column = column;
  e.messageId = fill(m[1], p || {});
  e.messageEn = e.message;
  return e;
}

// --- tokens -----------------------------------------------------------------------------------
const OPS = ['!=', '<=', '>=', '(', ')', ',', '+', '-', '*', '=', '<', '>'];
const HINTS = [['==', '='], ['<>', '!='], ['&&', 'and'], ['||', 'or'], ['&', 'and'], ['|', 'or'], ['%', 'mod']];
const digit = (c) => c >= '0' && c <= '9';
const nameStart = (c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';

// After instance('name'), a step name of its path or a closing ']', a '/' or '[' continues the path
// (instance('desa')/root/item[...]/label); anywhere else they are errors, as before (lexer.py _in_path).
function inPath(toks) {
  const n = toks.length, l = toks.slice(-4).map((t) => t.k + ' ' + t.x);
  if (l[l.length - 1] === 'op ]') return true;
  if (n > 1 && toks[n - 1].k === 'name' && l[l.length - 2] === 'op /') return true;
  return l.length === 4 && l[0] === 'name instance' && l[1] === 'op (' && toks[n - 2].k === 'str' && l[3] === 'op )';
}

function tokenize(cs) {
  const toks = [];
  let i = 0, preds = 0;
  const at = (j, s) => cs.slice(j, j + s.length).join('') === s;
  const scan = (j, extra) => {
    while (j < cs.length && (nameStart(cs[j]) || digit(cs[j]) || extra.indexOf(cs[j]) >= 0)) j++;
    return j;
  };
  const tok = (k, x, c, d) => ({ k: k, x: x, c: c, d: d || {} });
  for (;;) {
    while (i < cs.length && ' \t\n\r'.indexOf(cs[i]) >= 0) i++;
    if (i >= cs.length) { toks.push(tok('end', '', i + 1)); return toks; }
    const c = cs[i], col = i + 1, nx = i + 1 < cs.length ? cs[i + 1] : '';
    let t = null, j = i + 1;
    if (((c === '/' || c === '[') && inPath(toks)) || (c === ']' && preds)) {
      t = tok('op', c, col);
    } else if (digit(c) || (c === '.' && digit(nx))) {
      j = i;
      while (j < cs.length && digit(cs[j])) j++;
      if (cs[j] === '.') { j++; while (j < cs.length && digit(cs[j])) j++; }
      t = tok('num', cs.slice(i, j).join(''), col);
    } else if (c === '.') {
      t = nx === '.' ? tok('dotdot', '..', col) : tok('dot', '.', col);
      j = nx === '.' ? i + 2 : i + 1;
    } else if (c === "'" || c === '"') {
      j = cs.indexOf(c, i + 1);
      t = j < 0 ? tok('error', 'unterminated', col, { text: c }) : tok('str', cs.slice(i + 1, j).join(''), col);
      j++;
    } else if (c === '$') {
      const at = cs.slice(i + 2, i + 13).join('') === 'last-saved#' ? i + 13 : i + 2; // ODK's ${last-saved#x}: reads empty
      if (nx === '{' && at < cs.length && nameStart(cs[at])) {
        j = scan(at, '_.-');
        if (cs[j] === '}') t = tok('ref', cs.slice(i + 2, j).join(''), col);
        j++;
      }
      t = t || tok('error', 'bad_ref', col);
    } else if (nameStart(c)) {
      j = scan(i, '_.:-');
      t = tok('name', cs.slice(i, j).join(''), col);
    } else {
      t = symbol(cs, i, at, scan, tok);
      j = i + (t.k === 'op' ? t.x.length : 1);
    }
    if (t.k === 'op') preds += t.x === '[' ? 1 : t.x === ']' ? -1 : 0;
    toks.push(t);
    if (t.k === 'error') return toks;
    i = j;
  }
}

function symbol(cs, i, at, scan, tok) {
  const col = i + 1, c = cs[i], nx = cs[i + 1] || '';
  for (const h of HINTS) if (at(i, h[0])) return tok('error', 'use', col, { text: h[0], fix: h[1] });
  for (const op of OPS) if (at(i, op)) return tok('op', op, col);
  if (c === '!') return tok('error', 'use', col, { text: '!', fix: '!= / not(...)' });
  if (c === '/') {
    if (nameStart(nx) || nx === '/') return tok('error', 'path', col, { text: cs.slice(i, scan(i + 1, '_.:-/')).join('') });
    return tok('error', 'use', col, { text: '/', fix: 'div' });
  }
  if ('/[]@'.indexOf(c) >= 0) return tok('error', 'path', col, { text: c });
  return tok('error', 'bad_char', col, { text: c });
}

// --- parser -------------------------------------------------------------------------------------
const PREC = { or: 1, and: 2, '=': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, '+': 5, '-': 5, '*': 6, div: 6, mod: 6 };
const WORDS = ['and', 'or', 'div', 'mod'];

// The parser's state is one object `p` ({toks, i, nesting}) passed to small functions, as the
// methods of _Parser in parser.py; each returns [node, depth of the tree].
export function parse(text) {
  const cs = Array.from(String(text));
  if (cs.length > MAX_LENGTH) throw fail('too_long', MAX_LENGTH + 1, { n: cs.length, max: MAX_LENGTH });
  if (/^[ \t\n\r]*$/.test(text)) throw fail('empty', 1);
  const p = { toks: tokenize(cs), i: 0, nesting: 0, preds: 0 };
  const r = binary(p, 1), t = peek(p);
  if (t.k !== 'end') throw fail('unexpected', t.c, { text: t.x });
  return r[0];
}

function peek(p) {
  const t = p.toks[p.i];
  if (t.k === 'error') throw fail(t.x, t.c, t.d);
  return t;
}

const isOp = (t, x) => t.k === 'op' && t.x === x;

function deeper(d, col) {
  if (d > MAX_DEPTH) throw fail('too_deep', col, { max: MAX_DEPTH });
  return d;
}

function shown(t) {
  if (t.k === 'str') return t.x.indexOf("'") < 0 ? "'" + t.x + "'" : '"' + t.x + '"';
  return t.k === 'ref' ? '${' + t.x + '}' : t.x || '?';
}

function operator(p) {
  const t = peek(p);
  if ((t.k === 'op' && own(PREC, t.x)) || (t.k === 'name' && WORDS.indexOf(t.x) >= 0)) return t.x;
  if (t.k === 'end' || isOp(t, ')') || isOp(t, ',') || isOp(t, ']')) return null;
  throw fail('expected_operator', t.c, { text: shown(t) });
}

function binary(p, min) {
  let r = unary(p), op;
  while ((op = operator(p)) !== null && PREC[op] >= min) {
    const col = peek(p).c;
    p.i++;
    const right = binary(p, PREC[op] + 1);
    r = [{ t: 'bin', op: op, left: r[0], right: right[0] }, deeper(1 + Math.max(r[1], right[1]), col)];
  }
  return r;
}

function unary(p) {
  const cols = [];
  while (isOp(peek(p), '-')) {
    cols.push(peek(p).c);
    p.i++;
    if (cols.length + p.nesting > MAX_DEPTH) throw fail('too_deep', cols[cols.length - 1], { max: MAX_DEPTH });
  }
  p.nesting += cols.length;
  let r = primary(p);
  p.nesting -= cols.length;
  for (let k = cols.length - 1; k >= 0; k--) r = [{ t: 'neg', arg: r[0] }, deeper(r[1] + 1, cols[k])];
  return r;
}

function enter(p, b) {
  p.i++;
  if (++p.nesting > MAX_DEPTH) throw fail('too_deep', b.c, { max: MAX_DEPTH });
}

function close(p, b) {
  const t = peek(p);
  if (!isOp(t, ')')) throw t.k === 'end' ? fail('unclosed', b.c) : fail('unexpected', t.c, { text: t.x });
  p.i++;
  p.nesting--;
}

function primary(p) {
  const t = peek(p), k = t.k;
  if (k === 'num') {
    p.i++;
    const v = parseFloat(t.x);
    if (!isFinite(v)) throw fail('number_too_big', t.c, { text: t.x });
    return [{ t: 'num', v: v }, 1];
  }
  if (k === 'str' || k === 'ref' || k === 'dot') {
    p.i++;
    return [k === 'str' ? { t: 'str', v: t.x } : k === 'ref' ? { t: 'ref', name: t.x } : { t: 'cur' }, 1];
  }
  if (k === 'dotdot') throw fail('dotdot', t.c);
  if (isOp(t, '(')) {
    enter(p, t);
    const r = binary(p, 1);
    close(p, t);
    return r;
  }
  if (k === 'name') {
    if (isOp(p.toks[p.i + 1], '(')) return t.x === 'instance' ? instance(p, t) : call(p, t);
    if (WORDS.indexOf(t.x) < 0 && p.preds) { p.i++; return [{ t: 'col', name: t.x }, 1]; } // a column of the row
    throw fail(WORDS.indexOf(t.x) >= 0 ? 'operator_word' : 'bare_name', t.c, { text: t.x });
  }
  throw k === 'end' ? fail('end', t.c) : fail('expected_value', t.c, { text: t.x });
}

// instance('id')/root/item[predicate]*(/column)?, the one path shape ODK forms use.
function instance(p, name) {
  const b = p.toks[p.i + 1];
  p.i++;
  enter(p, b);
  const t = peek(p);
  if (t.k !== 'str' || !isOp(p.toks[p.i + 1], ')')) throw fail('instance_name', t.c);
  p.i++;
  close(p, b);
  step(p, 'root');
  step(p, 'item');
  const where = [];
  let depth = 1;
  while (isOp(peek(p), '[')) {
    const r = predicate(p);
    where.push(r[0]);
    depth = Math.max(depth, r[1]);
  }
  const get = isOp(peek(p), '/') ? step(p, null) : '';
  return [{ t: 'inst', id: t.x, where: where, get: get }, deeper(depth + 1, name.c)];
}

function step(p, want) {
  const s = peek(p);
  if (!isOp(s, '/')) throw fail('instance_path', s.c);
  const f = p.toks[p.i + 1];
  if (f.k !== 'name' || (want !== null && f.x !== want)) throw fail('instance_path', f.c);
  p.i += 2;
  return f.x;
}

function predicate(p) {
  const b = peek(p);
  enter(p, b);
  p.preds++;
  const r = binary(p, 1);
  p.preds--;
  const t = peek(p);
  if (!isOp(t, ']')) throw t.k === 'end' ? fail('unclosed_bracket', b.c) : fail('unexpected', t.c, { text: t.x });
  p.i++;
  p.nesting--;
  return [r[0], r[1] + 1];
}

function call(p, name) {
  const def = own(FN, name.x);
  if (!def) throw unknownFunction(name.x, name.c);
  const b = p.toks[p.i + 1], args = [], cols = [];
  p.i++;
  enter(p, b);
  let depth = 0;
  while (!(args.length === 0 && isOp(peek(p), ')'))) {
    cols.push(peek(p).c);
    let r;
    if (name.x === 'position' && peek(p).k === 'dotdot' && isOp(p.toks[p.i + 1], ')')) { p.i++; r = [{ t: 'parent' }, 1]; }
    else r = binary(p, 1);
    args.push(r[0]);
    depth = Math.max(depth, r[1]);
    if (!isOp(peek(p), ',')) break;
    p.i++;
  }
  close(p, b);
  checkCall(name.x, def, args, name.c, cols);
  return [{ t: 'call', fn: name.x, args: args }, deeper(depth + 1, name.c)];
}

function checkCall(name, def, args, col, cols) {
  const n = args.length, lo = def[0], hi = def[1];
  if (n < lo || (hi !== null && n > hi)) {
    throw fail(lo === hi ? 'arity_exact' : hi === null ? 'arity_min' : 'arity_range', col, { text: name, min: lo, max: hi, n: n });
  }
  if (name === 'position' && args.some((a) => a.t !== 'parent')) throw fail('position_arg', cols[0]);
  if (name === 'jr:choice-name' && !(args[1].t === 'str' && /^\$\{[A-Za-z_][A-Za-z0-9_.-]*\}$/.test(args[1].v))) throw fail('choice_name', cols[1]);
  if (name === 'indexed-repeat') {
    args.forEach((a, k) => { if ((k === 0 || k % 2 === 1) && a.t !== 'ref') throw fail('indexed_repeat', cols[k]); });
    if (n % 2 === 0) throw fail('indexed_repeat', cols[n - 1]);
  }
  if (name === 'digest') {
    if (args[1].t === 'str' && DIGESTS.indexOf(args[1].v) < 0) throw fail('digest_algorithm', cols[1]);
    if (n > 2 && args[2].t === 'str' && ['base64', 'hex'].indexOf(args[2].v) < 0) throw fail('digest_encoding', cols[2]);
  }
  if (name === 'regex' && args[1].t === 'str') {
    const p = args[1].v, len = Array.from(p).length;
    if (len > MAX_PATTERN) throw fail('regex_too_long', cols[1], { n: len, max: MAX_PATTERN });
    try { translate(p, '$'); } catch (e) {
      if (!e.reason) throw e;
      throw fail('regex', cols[1], { reason_id: REASONS[e.reason][0], reason_en: REASONS[e.reason][1] });
    }
  }
}

const ALIASES = { substring: 'substr', length: 'string-length', len: 'string-length', iif: 'if' };

function unknownFunction(name, col) {
  let best = own(ALIASES, name.toLowerCase()) || null, bestD = best ? 0 : Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const c of Object.keys(FN).sort()) {
    const d = editDistance(name.toLowerCase(), c);
    if (d < bestD) { best = c; bestD = d; }
  }
  return best ? fail('unknown_function_hint', col, { text: name, fix: best }) : fail('unknown_function', col, { text: name });
}

function editDistance(a, b) {
  let prev = [];
  for (let j = 0; j <= b.length; j++) prev.push(j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length];
}
