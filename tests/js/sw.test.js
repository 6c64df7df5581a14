// The service worker's install (static/js/sw.js), run in a VM with a fake network: a release must
// install even when one of its files never finishes downloading.
import test, { mock } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const SOURCE = readFileSync(new URL('../../static/js/sw.js', import.meta.url), 'utf8');

function worker(fetch) {
  const handlers = {};
  const stored = [];
  const cache = { put: async (key) => { stored.push(key); } };
  const self = {
    addEventListener: (type, fn) => { handlers[type] = fn; },
    skipWaiting: async () => {},
    clients: { claim: async () => {} },
    crypto: globalThis.crypto,
  };
  const context = {
    self, fetch, Response, Headers, AbortController, setTimeout, clearTimeout,
    caches: { open: async () => cache, keys: async () => [], delete: async () => true },
    CompressionStream, DecompressionStream, URL, Promise,
  };
  vm.runInNewContext(SOURCE.replace('__RELEASE__', 'uji'), context);
  const install = () => {
    let done;
    handlers.install({ waitUntil: (p) => { done = p; } });
    return done;
  };
  return { install, stored };
}

const MANIFEST = { shell: ['/static/a.css'], rules: ['/f/uji/rules'], pages: ['/f/uji'] };

function network({ stall }) {
  return (url, options) => {
    if (url === '/api/v1/offline') return Promise.resolve(new Response(JSON.stringify(MANIFEST)));
    if (url === stall) {  // never answers, until the worker gives up on it
      return new Promise((_, reject) => options.signal.addEventListener('abort', () => reject(new Error('aborted'))));
    }
    const response = new Response('ok ' + url, { headers: { 'content-type': 'text/plain' } });
    Object.defineProperty(response, 'type', { value: 'basic' });  // same-origin, as in a browser
    return Promise.resolve(response);
  };
}

test('install finishes when every file answers, and caches each', async () => {
  const sw = worker(network({ stall: null }));
  await sw.install();
  assert.deepEqual(sw.stored.sort(), ['/f/uji', '/f/uji/rules', '/static/a.css']);
});

test('a file that never answers is given up after its time, and the release still installs', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const sw = worker(network({ stall: '/f/uji' }));
    let installed = false;
    const done = sw.install().then(() => { installed = true; });
    for (let i = 0; i < 20; i++) await Promise.resolve();
    mock.timers.tick(19000);
    for (let i = 0; i < 20; i++) await Promise.resolve();
    assert.equal(installed, false, 'still waiting for the stalled file before its time is up');
    mock.timers.tick(1500);
    await done;
    assert.equal(installed, true);
    assert.deepEqual(sw.stored.sort(), ['/f/uji/rules', '/static/a.css']);  // the stalled page is cached when visited
  } finally {
    mock.timers.reset();
  }
});
