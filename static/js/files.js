// Audio, video and file questions, loaded only by forms that have them (spec.files): the chosen file is
// kept on the phone by its sha256 in the outbox's store (offline.js keepPhoto, with its kind), one try
// to upload it at once, and the outbox sends it before the form that names it, offline or not. The
// bytes go as chosen: the server checks what they are (a recording for audio, ...) and their size.
import { make } from './dom.js';

const fill = (t, p) => String(t).replace(/\{(\w+)\}/g, (m, k) => (p && k in p ? p[k] : m));

export function attach(spec, F) {
  const msg = spec.files;
  document.querySelectorAll('.q.md input[type=file]').forEach((input) => {
    // Here, not at the form: form.js would take the file for a photo and scale it.
    input.addEventListener('change', (e) => {
      e.stopPropagation();
      const file = input.files && input.files[0];
      if (file) F.uploads.push(keep(input, file, msg, spec, F));
      input.value = '';
    });
  });
}

function keep(input, file, msg, spec, F) {
  const w = input.closest('.q'), hidden = w.querySelector('input[type=hidden]'), kind = input.dataset.k;
  let out = w.querySelector('.st');
  if (!out) { out = make('output', { class: 'st' }); w.insertBefore(out, w.querySelector('.err')); }
  const name = input.name.slice(input.name.lastIndexOf('.') + 1);
  const mb = +((spec.params[name] || {}).max_size);
  // An input event: the runtime checks the field again and the draft is saved with the value.
  const set = (v, text) => { hidden.value = v; out.textContent = text; hidden.dispatchEvent(new Event('input', { bubbles: true })); };
  if (mb && file.size > mb * 1024 * 1024) {
    set('', fill(msg.fail, { why: fill(msg.big, { mb: mb }) }));
    return Promise.resolve();
  }
  set('', msg.wait);
  return import('./offline.js').then((o) => o.keepPhoto(file, false, kind))
    .then((sha) => set(sha, fill(msg.ok, { kb: Math.round(file.size / 1024) })))
    .catch((e) => set('', fill(msg.fail, { why: e.message })));
}
