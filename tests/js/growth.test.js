// The phone's z-scores (static/js/growth.js) against the server's answers for the same cases
// (tests/growth_vectors.json, written and kept current by tests/domain/test_growth_vectors.py), over
// the whole range of the WHO tables: every value equal to two decimals, every category and referral.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assess, needsReferral, round2, summary, unpack } from '../../static/js/growth.js';

const root = new URL('../../', import.meta.url);
const tables = unpack(JSON.parse(readFileSync(new URL('static/data/who-growth.json', root), 'utf8')));
const vectors = JSON.parse(readFileSync(new URL('tests/growth_vectors.json', root), 'utf8'));

test('every vector: z-scores to two decimals, categories, flags and the referral rule', () => {
  assert.ok(vectors.length > 1000);
  const wrong = [];
  for (const v of vectors) {
    const got = assess(tables, v.in), want = v.out;
    const same = ['haz', 'waz', 'whz', 'tbu', 'bbu', 'bbtb'].every((k) => (got[k] === undefined ? null : got[k]) === want[k])
      && JSON.stringify(got.implausible || []) === JSON.stringify(want.implausible)
      && !!got.too_old === want.too_old && JSON.stringify(needsReferral(got)) === JSON.stringify(want.referral);
    if (!same) wrong.push({ in: v.in, want: want, got: got });
  }
  assert.deepEqual(wrong.slice(0, 3), []);
});

test('the reported girl: 730 days, 78 cm lying, 9.5 kg', () => {
  const a = assess(tables, { sex: 'P', birth: '2024-01-01', measured: '2025-12-31', length: 78, weight: 9.5, lying: true });
  assert.equal(a.haz, -2.6);
  assert.equal(summary(a, false).split(';')[0], 'TB/U −2,60 (Pendek)');
  assert.deepEqual(needsReferral(a), ['haz']);
  const standing = assess(tables, { sex: 'P', birth: '2024-01-01', measured: '2025-12-31', length: 78, weight: 9.5, lying: false });
  assert.equal(standing.haz, -2.39); // the preset that was wrong: +0.7 cm
});

test('half-even rounding as Decimal.quantize', () => {
  assert.equal(round2(-2.005), -2.0);
  assert.equal(round2(2.015), 2.02);
  assert.equal(round2(-2.0051), -2.01);
});
