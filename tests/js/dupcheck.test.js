// The phone's KK tags (static/js/dupcheck.js) against the server's for the same keys and cards
// (tests/kk_tag_vectors.json, kept equal to server/storage/pii.kk_tag by tests/storage/test_kk_tags.py),
// and the names folded as server/domain/duplicates.py folds them (tests/name_key_vectors.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';

if (!globalThis.crypto) globalThis.crypto = webcrypto;
const { tagOf, sharing, nameKey, soundKey, samePerson } = await import('../../static/js/dupcheck.js');
const vectors = JSON.parse(readFileSync(new URL('../kk_tag_vectors.json', import.meta.url), 'utf8'));
const names = JSON.parse(readFileSync(new URL('../name_key_vectors.json', import.meta.url), 'utf8'));

test('every vector: the phone tags a KK as the server does', async () => {
  let n = 0;
  for (const c of vectors.cases) {
    for (const [kk, tag] of c.tags) {
      assert.equal(await tagOf(c.key, kk), tag, kk);
      n++;
    }
  }
  assert.ok(n >= 90);
});

test('the people on a tag, without the record being corrected', () => {
  const copy = new Map([['a', { id: 'a', kt: 'abcde' }], ['b', { id: 'b', kt: 'abcde' }], ['c', { id: 'c', kt: '12345' }]]);
  assert.deepEqual(sharing(copy, 'abcde', 'a').map((e) => e.id), ['b']);
  assert.deepEqual(sharing(copy, 'abcde', '').map((e) => e.id), ['a', 'b']);
  assert.deepEqual(sharing(copy, 'fffff', ''), []);
});

test('every name vector: the phone folds a name and its sound as the server does', () => {
  const wrong = names.filter(([name, key, sound]) => nameKey(name) !== key || soundKey(key) !== sound);
  assert.deepEqual(wrong.slice(0, 5), []);
  assert.ok(names.length > 250);
});

test('the same person: folded name or sound, and the birth date or its day and month swapped', () => {
  const copy = new Map([
    ['a', { id: 'a', name: 'Siti Aminah', b: '1990-03-05' }],
    ['b', { id: 'b', name: 'Siti Aminah', b: '1971-11-20' }],
    ['c', { id: 'c', name: 'Budi', b: '1990-03-05' }],
    ['d', { id: 'd', name: 'Siti Aminah', b: '' }],
  ]);
  assert.deepEqual(samePerson(copy, 'Hj. Sitti Aminah', '1990-03-05', '').map((e) => e.id), ['a']);
  assert.deepEqual(samePerson(copy, 'Siti Aminah', '1990-05-03', '').map((e) => e.id), ['a']);
  assert.deepEqual(samePerson(copy, 'Siti Aminah', '1990-03-05', 'a'), []);
  assert.deepEqual(samePerson(copy, 'Siti Rahmah', '1990-03-05', ''), []);
  assert.deepEqual(samePerson(copy, 'Siti Aminah', '', ''), []);
});
