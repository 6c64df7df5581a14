// The phone's KK tags (static/js/kkdup.js) against the server's for the same keys and cards
// (tests/kk_tag_vectors.json, kept equal to server/storage/pii.kk_tag by tests/storage/test_kk_tags.py),
// and the lookup that names who shares a card.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';

if (!globalThis.crypto) globalThis.crypto = webcrypto;
const { tagOf, sharing } = await import('../../static/js/kkdup.js');
const vectors = JSON.parse(readFileSync(new URL('../kk_tag_vectors.json', import.meta.url), 'utf8'));

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
