// The beneficiary picker's search over the phone's copy (static/js/picker.js): by name (start of
// the name or of any word, accents and apostrophes ignored), by desa, by the visible digits of the
// masked NIK; and the incremental copy, where merged records go. Run: node --test tests/js/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applySlice, entry, nameKey, search } from '../../static/js/picker.js';

const DESA = { '64.02.06.1001': 'Jahab', '64.02.06.2002': 'Bukit Biru', '64.02.06.1003': 'Loa Ipuh' };
const ROWS = [
  ['a1', '64**************', 'Siti Aminah', '64.02.06.1001', '2026-04-10'],
  ['b2', '64**************', "Nur'aini Hasan", '64.02.06.2002', ''],
  ['c3', '64**************', 'Andi Siti', '64.02.06.1003', ''],
  ['d4', '64**************', 'Élodie Rahmat', '64.02.06.1001', ''],
];
const COPY = ROWS.map((r) => entry(r, DESA));
const ids = (query) => search(COPY, query).map((e) => e.id);

test('names are keyed like the server does (registry.name_key)', () => {
  assert.equal(nameKey("  Nur'aini  HASAN "), 'nuraini hasan');
  assert.equal(nameKey('Élodie-Rahmat'), 'elodie rahmat');
});

test('a name prefix finds the person; the start of the name ranks before a later word', () => {
  assert.deepEqual(ids('siti'), ['a1', 'c3']);
  assert.deepEqual(ids('SITI am'), ['a1']);
  assert.deepEqual(ids('nuraini'), ['b2']);
  assert.deepEqual(ids("nur'ai"), ['b2']);
  assert.deepEqual(ids('elo'), ['d4']);
  assert.deepEqual(ids('hasan'), ['b2']);
  assert.deepEqual(ids('zz'), []);
});

test('a desa name finds its beneficiaries, alone or with a name', () => {
  assert.deepEqual(ids('jahab'), ['d4', 'a1']); // equally good: by name
  assert.deepEqual(ids('bukit'), ['b2']);
  assert.deepEqual(ids('siti jahab'), ['a1']);
});

test('digits find nobody: the mask shows only the province, a whole number is for the server to confirm', () => {
  for (const digits of ['64', '640206', '6402-0641-0190-0001', '01', '6402064101900001']) {
    assert.deepEqual(ids(digits), [], digits);
  }
});

test('at most the limit, best first', () => {
  const many = Array.from({ length: 50 }, (_, i) => entry(['x' + i, '64**************', 'Siti ' + i, '64.02.06.1001', ''], DESA));
  assert.equal(search(many, 'siti').length, 20);
  assert.equal(search(many, 'siti', 5).length, 5);
});

test('the incremental copy replaces rows by id and drops merged records', () => {
  const copy = new Map();
  applySlice(copy, { rows: ROWS, desa: DESA, removed: [] });
  assert.equal(copy.size, 4);
  applySlice(copy, { rows: [['a1', '64**************', 'Siti Aminah Rahman', '64.02.06.1001', '2026-05-01']],
    desa: DESA, removed: [['d4', 'a1']] });
  assert.equal(copy.size, 3);
  assert.equal(copy.get('a1').name, 'Siti Aminah Rahman');
  assert.equal(copy.get('a1').desa, 'Jahab');
  assert.ok(!copy.has('d4'));
});

test('picker.js uses no syntax newer than Chrome 61', () => {
  const code = readFileSync(new URL('../../static/js/picker.js', import.meta.url), 'utf8')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|\/\/[^\n]*/g, "''");
  assert.doesNotMatch(code, /\?\.[A-Za-z_$([]|\?\?|catch\s*\{|\bclass\s|\.finally\(/);
});
