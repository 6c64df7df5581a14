// The shared-KK warning before sending. An intake of a programme with one recipient per family card
// (registry one_per_kk) warns, as the KK is typed, that a recipient in the phone's copy of the
// programme already has that card: the server would flag both records `kk_ganda` for review.
// The copy holds no KK numbers: each person carries a 20-bit tag, HMAC-SHA256 of the KK under a key
// the server gives with the copy (server/storage/pii.kk_tag); the typed KK is tagged with the same
// key and looked up. About a hundred possible KKs of a kecamatan share each tag, so the copy does not
// give a KK back; a wrong match comes once in about a million per person (docs/privacy.md).
// Loaded by form.js only for such forms (R.kkdup names the KK question). Chrome 61+: no ?., ??.

import { copyOf } from './picker.js';

const TEXT = [
  'No. KK ini sudah dipakai penerima lain program ini di wilayah Anda: {names}. Program ini untuk satu ' +
    'penerima per KK. Data tetap bisa dikirim dan akan ditandai "KK ganda" untuk diperiksa, kecuali ' +
    'orang yang sama (NIK sama), yang datanya diperbarui.',
  'This family card number is already used by another recipient of this programme in your areas: {names}. ' +
    'The programme is for one recipient per family card. You can still send; the record will be flagged ' +
    '"shared KK" for review, unless it is the same person (same NIK), whose record is updated.',
];

function bytes(base64url) {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((base64url.length + 3) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

// The tag of a KK, as pii.kk_tag: the first 5 hex digits of HMAC-SHA256(key, the 16 digits).
export async function tagOf(key, digits) {
  const k = await crypto.subtle.importKey('raw', bytes(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(digits)));
  return Array.from(mac.slice(0, 3), (b) => (b < 16 ? '0' : '') + b.toString(16)).join('').slice(0, 5);
}

// The people of the copy on this tag, but not the record being corrected (its own intake).
export function sharing(copy, tag, own) {
  const found = [];
  copy.forEach((e) => { if (e.kt === tag && e.id !== own) found.push(e); });
  return found;
}

export async function attach(R, F) {
  const field = R.kkdup, en = document.documentElement.lang === 'en' ? 1 : 0;
  const state = await copyOf(R.program), key = state.meta.kk;
  const idInput = document.querySelector('[name="_id"]');
  let typed = '', found = [];
  const show = () => {
    const w = F.wrapper(field), names = found.map((e) => e.name + ' (' + e.desa + ')').join(', ');
    if (w) F.part(w, 'p.kkdup', 'p', 'warn kkdup', found.length ? [TEXT[en].replace('{names}', names)] : []);
  };
  F.hooks.push((values) => {
    const digits = String(values[field] || '').replace(/\D/g, '');
    if (digits === typed) return;
    typed = digits;
    found = [];
    show();
    if (digits.length !== 16 || !key || !window.crypto || !crypto.subtle) return;
    tagOf(key, digits).then((tag) => {
      if (typed !== digits) return; // typed on meanwhile
      found = sharing(state.copy, tag, idInput ? idInput.value : '');
      show();
    }).catch(() => {});
  });
  F.refresh();
}
