// For tests/domain/test_expr_js_parity.py: parse and evaluate every vector of a file with the JS
// evaluator and print, as one JSON document, each AST and value (or error) for Python to compare.
// Usage: node tests/js/dump_vectors.js [vectors.json]   (default: tests/expr_vectors.json)
import { readFileSync } from 'node:fs';
import { parse, evaluate, FUNCTIONS } from '../../static/js/expr.js';

const path = process.argv[2] || new URL('../expr_vectors.json', import.meta.url);
const data = JSON.parse(readFileSync(path, 'utf8'));

// JSON has no NaN or Infinity; the vectors file spells them {"num": ...} and so do we.
const enc = (x) => {
  if (typeof x === 'number' && !isFinite(x)) return { num: x !== x ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity' };
  return Array.isArray(x) ? x.map(enc) : x;
};

const results = data.vectors.map((v) => {
  let ast;
  try {
    ast = parse(v.expr);
  } catch (e) {
    if (!e.code) throw e;
    return { error: { code: e.code, column: e.column, message_id: e.messageId, message_en: e.messageEn } };
  }
  const ctx = {
    answers: v.answers || {}, current: v.current === undefined ? '' : v.current, scope: v.scope || {},
    position: v.position || [], today: data.today, now: data.now, instances: v.instances || {}, lists: v.lists || {},
  };
  return { ast: ast, value: enc(evaluate(ast, ctx)) };
});
process.stdout.write(JSON.stringify({ functions: FUNCTIONS, results: results }));
