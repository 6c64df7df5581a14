// The shared vectors through the phone's evaluator (static/js/expr.js), as
// tests/domain/test_expr.py runs them through the server's. Run: node --test tests/js/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse, evaluate, toBoolean, toNumber, toString } from '../../static/js/expr.js';

const data = JSON.parse(readFileSync(new URL('../expr_vectors.json', import.meta.url), 'utf8'));
const sourceOf = (name) => readFileSync(new URL('../../static/js/' + name, import.meta.url), 'utf8');
const SOURCES = ['expr.js', 'expr-eval.js', 'expr-more.js', 'expr-digest.js', 'form.js', 'dom.js', 'nik.js', 'repeat.js', 'setvalue.js', 'repchoice.js', 'rank.js', 'files.js'];

const decode = (x) => {
  if (Array.isArray(x)) return x.map(decode);
  if (x !== null && typeof x === 'object') return { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity }[x.num];
  return x;
};

// Equal and of the same type: 5 is not '5' nor true; NaN equals NaN here.
const same = (a, e) => {
  if (Array.isArray(e)) return Array.isArray(a) && a.length === e.length && a.every((x, i) => same(x, e[i]));
  if (typeof e === 'number') return typeof a === 'number' && (a === e || (a !== a && e !== e));
  return a === e;
};

const contextFor = (v) => ({
  answers: v.answers || {}, current: v.current === undefined ? '' : v.current, scope: v.scope || {},
  position: v.position || [], today: data.today, now: data.now, instances: v.instances || {}, lists: v.lists || {},
});

data.vectors.forEach((v, i) => {
  test(`${i}: ${v.expr.slice(0, 50)}`, () => {
    if (v.error) {
      assert.throws(() => parse(v.expr), (e) => {
        assert.deepEqual([e.code, e.column], [v.error, v.column]);
        assert.ok(e.messageId && e.messageEn);
        return true;
      });
      return;
    }
    const ast = parse(v.expr);
    const actual = evaluate(JSON.parse(JSON.stringify(ast)), contextFor(v));
    const expected = decode(v.expected);
    assert.ok(same(actual, expected), `got ${JSON.stringify(actual)}, expected ${JSON.stringify(v.expected)}`);
  });
});

test('conversions are exported', () => {
  assert.equal(toBoolean(''), false);
  assert.equal(toNumber('2026-03-31'), 20543);
  assert.equal(toString(5), '5');
  assert.equal(toString([]), '');
});

test('evaluation never throws, whatever the tree and the answers', () => {
  const junk = [null, undefined, 1, 'x', [], {}, { t: 'call', fn: 'sum' }, { t: 'bin', op: '+' }, { t: 'neg' }];
  for (const ast of junk) assert.equal(evaluate(ast, { answers: { x: [{}, null] } }), '');
  let deep = { t: 'num', v: 1 };
  for (let i = 0; i < 100000; i++) deep = { t: 'neg', arg: deep };
  assert.equal(evaluate(deep, {}), '');
  assert.equal(typeof evaluate(parse('now()'), {}), 'string');
  assert.match(evaluate(parse('today()'), {}), /^\d{4}-\d{2}-\d{2}$/);
});

test('runs on Chrome 61 (Android 8): no syntax newer than ES2017', () => {
  for (const name of SOURCES) noNewerSyntax(name, sourceOf(name));
});

test('the phone loads only the evaluator: no parser or error messages in expr-eval.js', () => {
  const code = sourceOf('expr-eval.js');
  assert.doesNotMatch(code, /export function parse\(|Ekspresi kosong|editDistance/);
  assert.doesNotMatch(code, /^import /m, 'expr-eval.js must not import the parser');
});

function noNewerSyntax(name, source) {
  const code = source.replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|\/\/[^\n]*/g, "''");
  const newer = [
    [/\?\.[A-Za-z_$([]/, 'optional chaining ?.'], [/\?\?/, 'nullish ??'], [/catch\s*\{/, 'catch without binding'],
    [/\(\?<[=!A-Za-z]/, 'lookbehind or named group'],
    [/\.(?:flat|flatMap|matchAll|trimStart|trimEnd|at)\(/, 'ES2019+ method'], [/Object\.fromEntries|globalThis|BigInt/, 'ES2019+ global'],
    [/\bclass\s+[A-Za-z]/, 'classes (none, so no class fields either)'],
  ];
  for (const [re, what] of newer) assert.doesNotMatch(code, re, `${name}: ${what}`);
}
