// The NIK and No. KK cases in tests/nik_vectors.json through the fill page's checks (static/js/nik.js),
// as tests/domain/test_nik_vectors.py runs them through the server's. Run: node --test tests/js/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkId } from '../../static/js/nik.js';

const data = JSON.parse(readFileSync(new URL('../nik_vectors.json', import.meta.url), 'utf8'));

data.vectors.forEach((v, i) => {
  test(`${i}: ${v.kind} ${v.value} ${v.sex || ''} ${v.birth_date || ''}`, () => {
    const found = checkId(v.kind, v.value, v.birth_date, v.sex, data.registered);
    const findings = (found.error ? [found.error] : []).concat(found.warnings);
    assert.deepEqual(findings.map((f) => f[0]), v.phone);
    findings.forEach((f) => assert.deepEqual(f[1], (v.params || {})[f[0]] || {}, f[0]));
    if (v.kind === 'nik' && !v.why && !found.error) {
      assert.deepEqual([found.parts.female ? 'P' : 'L', found.parts.iso], v.decoded);
    }
  });
});

test('without a registration date the current year settles the century', () => {
  const year = new Date().getFullYear() % 100, yy = (year < 10 ? '0' : '') + year;
  assert.equal(checkId('nik', '64020615' + '02' + yy + '0001', '', '', '').parts.year, 2000 + year);
});
