// ODK's own form engine (@getodk/xforms-engine, the engine of ODK Web Forms) as an OpenRosa client
// of Pantau, for the tests in tests/odk. It runs under Node with jsdom for the DOM the engine parses
// XML with; everything else (fetch, FormData, File) is Node's own, so the multipart it posts is
// built exactly as a browser running ODK Web Forms would build it.
//
//   node tests/odk/client.mjs < job.json > report.json
//
// A job is {"forms": [...]} (XForms and media on disk) or {"server": ".../key/<token>/", ...}
// (read the formList, download every XForm and its media, optionally post); see run() below.
// Each form is loaded, then filled by `steps` (see STEPS), then serialised with the engine's own
// submission API (prepareInstancePayload). The report is one JSON object on stdout.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createHash } from 'node:crypto';
import { JSDOM } from 'jsdom';

// The engine's bundle embeds web-tree-sitter, whose Node branch reads `__dirname` (absent in an ES
// module) before it takes the WASM the bundle passes inline; any directory will do.
globalThis.__dirname = new URL('.', import.meta.url).pathname;
const dom = new JSDOM('');
for (const name of ['DOMParser', 'XMLSerializer', 'Node', 'document']) {
  globalThis[name] = name === 'document' ? dom.window.document : dom.window[name];
}
const { loadForm } = await import('@getodk/xforms-engine');

// --- the instance tree ---------------------------------------------------------------------------
function* nodes(node) {
  yield node;
  for (const child of node.currentState.children ?? []) yield* nodes(child);
}

function find(root, ref) {
  for (const node of nodes(root)) {
    if (node.currentState.reference === ref) return node;
  }
  throw new Error(`no node ${ref}`);
}

function text(range) {
  return range ? range.asString : null;
}

function options(node) {
  return node.currentState.valueOptions.map((item) => ({ value: item.value, label: text(item.label) }));
}

function writable(node, ref) {
  if (!node.currentState.relevant) throw new Error(`${ref} is not relevant: skip logic hides it`);
  if (node.currentState.readonly) throw new Error(`${ref} is read-only`);
}

function choose(node, ref, values) {
  const offered = options(node).map((o) => o.value);
  const missing = values.filter((v) => !offered.includes(v));
  if (missing.length) throw new Error(`${ref}: ${missing} not among the offered ${offered.slice(0, 20)}`);
  node.selectValues(values);
}

// --- the steps a job fills a form with -----------------------------------------------------------
// Each step names a node by its reference as the engine gives it (/data/group/field, inside a
// repeat /data/rep[1]/field). Setting a node that skip logic hides, or choosing a value the
// (filtered) list does not offer, is an error: the engine, not the test, decides what is shown.
const STEPS = {
  // {"set": ref, "value": "..."}: an input (text, number, date, geopoint "lat lon alt acc")
  set(root, step) {
    const node = find(root, step.set);
    writable(node, step.set);
    node.setValue(step.value);
    return null;
  },
  // {"select": ref, "values": [...]}: a select_one (one value) or select_multiple
  select(root, step) {
    const node = find(root, step.select);
    writable(node, step.select);
    choose(node, step.select, step.values);
    return null;
  },
  // {"pick": ref, "label": "..."}: the one choice whose label contains the text (a beneficiary
  // from the CSV attachment is known to the enumerator by name, not by id)
  pick(root, step) {
    const node = find(root, step.pick);
    writable(node, step.pick);
    const hits = options(node).filter((o) => o.label && o.label.includes(step.label));
    if (hits.length !== 1) throw new Error(`${step.pick}: ${hits.length} choices labelled ~ ${step.label}`);
    choose(node, step.pick, [hits[0].value]);
    return hits[0];
  },
  // {"options": ref}: report the choices offered now (the cascade's filtered list)
  options(root, step) {
    return options(find(root, step.options));
  },
  // {"relevant": ref}: report whether skip logic shows the node now
  relevant(root, step) {
    return find(root, step.relevant).currentState.relevant;
  },
  // {"value": ref}: report a node's value as it will be serialised (a calculate, a default)
  value(root, step) {
    return find(root, step.value).currentState.instanceValue;
  },
  // {"add": ref, "count": n}: add repeat instances to an open-ended repeat
  add(root, step) {
    const range = find(root, step.add);
    const before = range.currentState.children.length;
    range.addInstances(before - 1, step.count ?? 1);
    return range.currentState.children.length;
  },
  // {"photo": ref, "file": path}: attach a JPEG to an image question, named after the question
  // (Collect names each photo it takes differently; the engine keeps the name it is given)
  photo(root, step) {
    const node = find(root, step.photo);
    writable(node, step.photo);
    const name = `${step.photo.split('/').pop().replace(/\W/g, '_')}.jpg`;
    const file = new File([readFileSync(step.file)], name, { type: 'image/jpeg' });
    node.setValue(file);
    return node.currentState.instanceValue;
  },
  // {"autofill": true, "file": path}: every shown, writable, required question still blank gets a
  // plain valid answer (the first choice, 1, a date, a text, a point, the photo), in form order,
  // until none is left; the steps before it set what needs a particular value. Returns the refs.
  autofill(root, step) {
    const filled = [];
    for (let round = 0; round < 200; round += 1) {
      const blank = [...nodes(root)].filter((n) => n.currentState.children === null && n.currentState.relevant
        && !n.currentState.readonly && n.currentState.required && n.currentState.instanceValue === ''
        && ['select', 'input', 'upload'].includes(n.nodeType));
      if (!blank.length) return filled;
      const node = blank[0];
      const ref = node.currentState.reference;
      if (node.nodeType === 'select') choose(node, ref, [options(node)[0].value]);
      else if (node.nodeType === 'upload') STEPS.photo(root, { photo: ref, file: step.file });
      else node.setValue(PLAIN[node.valueType] ?? 'Uji');
      filled.push(ref);
    }
    throw new Error(`autofill did not settle: ${filled.slice(-5)}`);
  },
};

const PLAIN = { int: '1', decimal: '1', date: '2000-01-01', time: '08:00:00', geopoint: '-0.5 117.15 20 5' };

function fill(root, steps) {
  return steps.map((step) => {
    const kind = Object.keys(STEPS).find((k) => k in step);
    if (!kind) throw new Error(`unknown step ${JSON.stringify(step)}`);
    return STEPS[kind](root, step);
  });
}

// --- load, fill, serialise -----------------------------------------------------------------------
function violationsOf(root) {
  return root.validationState.violations.map((v) => ({
    ref: v.reference, condition: v.violation.condition, message: text(v.violation.message),
  }));
}

async function serialise(root) {
  const payload = await root.prepareInstancePayload({ payloadType: 'monolithic' });
  const data = payload.data[0];
  const files = [];
  for (const [name, file] of data.entries()) {
    if (name !== 'xml_submission_file') files.push({ name: file.name, type: file.type, size: file.size });
  }
  return { status: payload.status, xml: await data.get('xml_submission_file').text(), files, data };
}

// Loads one XForm; `media` maps an attachment's file name to a Response-like (the engine's
// fetchFormAttachment hook gets jr://file/<name> and jr://file-csv/<name> URLs).
export async function open(xform, media) {
  const fetched = [];
  const fetchFormAttachment = async (url) => {
    const name = decodeURIComponent(url.href.replace(/^jr:\/\/[^/]+\//, ''));
    fetched.push(name);
    if (!(name in media)) return new Response('', { status: 404 });
    return new Response(media[name], { status: 200 });
  };
  const result = await loadForm(xform, { fetchFormAttachment });
  if (result.status === 'failure') return { result, fetched, error: String(result.error?.message ?? result.error) };
  return { result, fetched, instance: result.createInstance(), error: null };
}

// Fills an open form (a variant is a second serialisation of the same instance after more
// steps: the same instanceID with different content).
async function fillForm(opened, job) {
  const root = opened.instance.root;
  const report = { steps: fill(root, job.steps ?? []) };
  report.violations = violationsOf(root);
  report.submission = await serialise(root);
  report.variants = [];
  for (const variant of job.variants ?? []) {
    const steps = fill(root, variant);
    report.variants.push({ steps, violations: violationsOf(root), submission: await serialise(root) });
  }
  return report;
}

function described(name, opened) {
  return {
    form: name, status: opened.result.status, error: opened.error, fetched: opened.fetched,
    warnings: opened.result.warnings ? JSON.stringify(opened.result.warnings) : null,
  };
}

function publicReport(report) {
  const strip = (s) => ({ status: s.status, xml: s.xml, files: s.files });
  return { ...report, submission: strip(report.submission),
    variants: report.variants.map((v) => ({ ...v, submission: strip(v.submission) })) };
}

// --- jobs on disk --------------------------------------------------------------------------------
async function runLocal(job) {
  const out = [];
  for (const form of job.forms) {
    const media = Object.fromEntries(Object.entries(form.media ?? {}).map(([n, p]) => [n, readFileSync(p)]));
    const opened = await open(readFileSync(form.xform, 'utf8'), media);
    const entry = described(form.xform, opened);
    if (!opened.error) Object.assign(entry, publicReport(await fillForm(opened, form)));
    out.push(entry);
  }
  return { forms: out };
}

// --- jobs against a server: OpenRosa as Collect speaks it ----------------------------------------
// One connection per request: loading a form in the engine can take longer than the server keeps
// an idle connection open (uvicorn: 5 s), and Node's fetch, unlike Collect's OkHttp, does not
// retry a request on a pooled connection the server closed meanwhile.
const OPENROSA = { 'X-OpenRosa-Version': '1.0', Connection: 'close' };

async function get(url) {
  let answer;
  try {
    answer = await fetch(url, { headers: OPENROSA });
  } catch (error) {
    throw new Error(`GET ${url}: no answer (${error.cause ?? error})`);
  }
  if (!answer.ok) throw new Error(`GET ${url}: ${answer.status} ${await answer.text()}`);
  return answer;
}

function elements(xml, tag) {
  const doc = new dom.window.DOMParser().parseFromString(xml, 'text/xml');
  return [...doc.getElementsByTagNameNS('*', tag)].map((el) => Object.fromEntries(
    [...el.children].map((child) => [child.localName, child.textContent.trim()])));
}

function md5(bytes) {
  return `md5:${createHash('md5').update(bytes).digest('hex')}`;
}

// Downloads a form the formList names and its manifest's media; checks every hash the server gave.
async function download(entry) {
  const xform = Buffer.from(await (await get(entry.downloadUrl)).arrayBuffer());
  const problems = [];
  if (entry.hash !== md5(xform)) problems.push(`${entry.formID}: formList hash ${entry.hash} != ${md5(xform)}`);
  const media = {};
  if (entry.manifestUrl) {
    const manifest = await (await get(entry.manifestUrl)).text();
    for (const file of elements(manifest, 'mediaFile')) {
      const bytes = Buffer.from(await (await get(file.downloadUrl)).arrayBuffer());
      if (file.hash !== md5(bytes)) problems.push(`${file.filename}: manifest hash ${file.hash} != ${md5(bytes)}`);
      media[file.filename] = bytes;
    }
  }
  return { xform: xform.toString('utf8'), media, problems };
}

// The engine's InstanceData is the multipart body itself: xml_submission_file and each attachment
// by its file name, as the OpenRosa submission API asks.
async function post(server, submission) {
  const body = new FormData();
  for (const [name, value] of submission.data.entries()) body.append(name, value, value.name);
  let answer;
  try {
    answer = await fetch(new URL('submission', server), { method: 'POST', body, headers: OPENROSA });
  } catch (error) { // the connection ended without an answer: report it as the status 0
    return { status: 0, body: String(error.cause ?? error), openrosa: null };
  }
  return { status: answer.status, body: await answer.text(), openrosa: answer.headers.get('x-openrosa-version') };
}

// job.fill maps a formID to a fill job or a list of them (each a fresh instance of the form); with
// job.post every serialisation (the submission, then each variant) is posted to <server>submission.
async function runServer(job) {
  const listed = await (await get(new URL('formList', job.server))).text();
  const out = { formList: listed, forms: [] };
  for (const entry of elements(listed, 'xform')) {
    const got = await download(entry);
    const opened = await open(got.xform, got.media);
    const report = { ...described(entry.formID, opened), entry, media: Object.keys(got.media), problems: got.problems };
    out.forms.push(report);
    if (opened.error || !job.fill?.[entry.formID]) continue;
    report.fills = [];
    for (const fillJob of [job.fill[entry.formID]].flat()) {
      const instance = report.fills.length ? (await open(got.xform, got.media)).instance : opened.instance;
      const filled = await fillForm({ ...opened, instance }, fillJob);
      const shown = publicReport(filled);
      if (job.post) {
        shown.posts = [];
        for (const s of [filled.submission, ...filled.variants.map((v) => v.submission)]) {
          shown.posts.push(await post(job.server, s));
        }
      }
      report.fills.push(shown);
    }
  }
  return out;
}

async function main() {
  const job = JSON.parse(readFileSync(0, 'utf8'));
  const report = job.server ? await runServer(job) : await runLocal(job);
  process.stdout.write(JSON.stringify(report, null, 1));
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  main().catch((error) => {
    process.stdout.write(JSON.stringify({ fatal: String(error.stack ?? error) }));
    process.exitCode = 1;
  });
}
