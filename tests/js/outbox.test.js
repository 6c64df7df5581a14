// The outbox's rules (static/js/outbox-core.js): what each server answer does to an item, the
// backoff, the order of sending, and that a lost session never marks an item failed.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as core from '../../static/js/outbox-core.js';

const SHA = 'a'.repeat(64), SHA2 = 'b'.repeat(64);
const body = (id, answers) => ({ instance_id: id, form_id: 'f', form_version: '1', answers: answers || {} });

test('enqueue keys the item by instance id and finds every photo, inside repeats too', () => {
  const item = core.enqueue(body('i1', { foto: SHA, anggota: [{ foto: SHA2 }, { foto: SHA }], nama: 'x' }), { title: 'T' }, 5);
  assert.equal(item.id, 'i1');
  assert.equal(item.state, 'saved');
  assert.deepEqual(item.photos, [SHA, SHA2]);
  assert.equal(item.title, 'T');
});

test('server answers: receipt, refusal, lost session, no answer', () => {
  assert.equal(core.classify(201), 'ok');
  assert.equal(core.classify(200), 'ok'); // the same instance id again: the first receipt
  for (const s of [400, 404, 409, 413, 415, 422]) assert.equal(core.classify(s), 'attention', String(s));
  for (const s of [0, 408, 429, 500, 502, 503]) assert.equal(core.classify(s), 'retry', String(s));
  assert.equal(core.classify(401), 'signin');
  // A 403 with a problem is the server refusing this item (a region outside one's areas): retrying
  // or signing in again would never change it. A CSRF 403, or one without a problem, is the session's.
  assert.equal(core.classify(403, false, 'submission.outside_area'), 'attention');
  assert.equal(core.classify(403, false, 'http.csrf'), 'signin');
  assert.equal(core.classify(403), 'signin');
  assert.equal(core.classify(200, true), 'signin'); // redirected to /masuk
});

test('after: sent keeps the receipt; attention keeps the message; retry backs off', () => {
  const item = core.enqueue(body('i1'), {}, 0);
  const sent = core.after(item, 'ok', { revision: 1 }, 10, 0.5);
  assert.equal(sent.state, 'sent');
  assert.deepEqual(sent.receipt, { revision: 1 });
  const refused = core.after(item, 'attention', { status: 409, code: 'submission.conflict' }, 10, 0.5);
  assert.equal(refused.state, 'attention');
  assert.equal(refused.answer.status, 409);
  let retry = core.after(item, 'retry', null, 1000, 0.5);
  assert.equal(retry.state, 'saved');
  assert.equal(retry.attempts, 1);
  assert.equal(retry.next, 1000 + core.BACKOFF[0]);
  for (let i = 0; i < 20; i++) retry = core.after(retry, 'retry', null, 1000, 0.5);
  assert.equal(retry.next, 1000 + core.BACKOFF[core.BACKOFF.length - 1]); // capped
});

test('a lost session is never a failure: the item waits, its attempts unchanged', () => {
  const item = Object.assign(core.enqueue(body('i1'), {}, 0), { attempts: 2 });
  const waiting = core.after(item, 'signin', { status: 401 }, 100, 0.5);
  assert.equal(waiting.state, 'saved');
  assert.equal(waiting.signin, true);
  assert.equal(waiting.attempts, 2);
  assert.ok(core.waiting(waiting));
  assert.equal(core.after(waiting, 'ok', {}, 200).signin, false);
});

test('due: oldest first, only waiting ones whose time came; a sending item left behind counts', () => {
  const a = Object.assign(core.enqueue(body('a'), {}, 3), { next: 0 });
  const b = Object.assign(core.enqueue(body('b'), {}, 1), { state: 'sending' });
  const c = Object.assign(core.enqueue(body('c'), {}, 2), { next: 500 });
  const d = Object.assign(core.enqueue(body('d'), {}, 0), { state: 'sent' });
  const e = Object.assign(core.enqueue(body('e'), {}, 0), { state: 'attention' });
  assert.deepEqual(core.due([a, b, c, d, e], 100).map((i) => i.id), ['b', 'a']);
  assert.deepEqual(core.due([a, b, c, d, e], 600).map((i) => i.id), ['b', 'c', 'a']);
  assert.equal(core.wake([c, d], 100), 400);
  assert.equal(core.wake([d, e], 100), -1);
});

test('backoff has jitter within a quarter either side', () => {
  assert.equal(core.backoff(0, 0), 750);
  assert.equal(core.backoff(0, 1), 1250);
  assert.ok(core.backoff(3) >= 7500 && core.backoff(3) <= 12500);
});

test('the export file holds unsent items and only their photos', () => {
  const a = core.enqueue(body('a', { foto: SHA }), {}, 0);
  const b = Object.assign(core.enqueue(body('b', { foto: SHA2 }), {}, 0), { state: 'sent' });
  const doc = core.exportDoc('citra', [a, b], { [SHA]: 'QUJD', [SHA2]: 'REVG' }, 0);
  assert.equal(doc.format, 'pantau-outbox');
  assert.equal(doc.user, 'citra');
  assert.deepEqual(doc.items.map((i) => i.instance_id), ['a']);
  assert.deepEqual(Object.keys(doc.photos), [SHA]);
});

test('sent items are dropped after a month', () => {
  const sent = Object.assign(core.enqueue(body('a'), {}, 0), { state: 'sent', updated: 0 });
  assert.equal(core.expired(sent, core.KEEP_SENT_MS + 1), true);
  assert.equal(core.expired(Object.assign({}, sent, { state: 'saved' }), core.KEEP_SENT_MS + 1), false);
});

test('a shared phone: an item goes out only under the session of who filled it', () => {
  const citra = Object.assign(core.enqueue(body('c'), { user: 'citra' }, 1), { next: 0 });
  const dewi = Object.assign(core.enqueue(body('d'), { user: 'dewi' }, 2), { next: 0 });
  const old = Object.assign(core.enqueue(body('o'), {}, 0), { next: 0 }); // from before items named their user
  assert.deepEqual(core.due([citra, dewi, old], 10, 'citra').map((i) => i.id), ['o', 'c']);
  assert.deepEqual(core.due([citra, dewi, old], 10, 'dewi').map((i) => i.id), ['o', 'd']);
  assert.deepEqual(core.due([citra, dewi], 10, '').map((i) => i.id), ['c', 'd']); // unknown: the server decides (401)
  assert.equal(core.wake([dewi], 10, 'citra'), -1); // nothing to wake for
});
