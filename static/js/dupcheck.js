// Checks of an intake against the phone's copy of its programme, before sending, upriver too:
// 1. A person already registered: the typed name (titles and spelling variants folded as the server
//    folds them, server/domain/duplicates.name_key and sound_key) and birth date (or its day and
//    month swapped) match someone in the copy: the page names them and offers to open their record
//    for a visit instead of registering them again.
// 2. A shared family card, for a programme with one recipient per card (registry one_per_kk): the
//    copy holds no KK numbers, each person carries a 20-bit tag, HMAC-SHA256 of the KK under a key
//    the server gives with the copy (server/storage/pii.kk_tag); the typed KK is tagged with the
//    same key and looked up. About a hundred possible KKs of a kecamatan share each tag, so the copy
//    does not give a KK back (docs/privacy.md); the server flags the records `kk_ganda` for review.
// Loaded by form.js only for intake forms: R.dup = [KK question or "", name question, birth date
// question]. Both are notices: sending stays possible. Chrome 61+: no ?., ??.

import { copyOf } from './picker.js';

const KK_TEXT = [
  'No. KK ini sudah dipakai penerima lain program ini di wilayah Anda: {names}. Program ini untuk satu ' +
    'penerima per KK. Data tetap bisa dikirim dan akan ditandai "KK ganda" untuk diperiksa, kecuali ' +
    'orang yang sama (NIK sama), yang datanya diperbarui.',
  'This family card number is already used by another recipient of this programme in your areas: {names}. ' +
    'The programme is for one recipient per family card. You can still send; the record will be flagged ' +
    '"shared KK" for review, unless it is the same person (same NIK), whose record is updated.',
];
const PERSON_TEXT = [
  'Orang dengan nama dan tanggal lahir ini mungkin sudah terdaftar: {names}. Bila orang yang sama, jangan ' +
    'daftarkan lagi: buka datanya dan isi formulir kunjungan.',
  'Someone with this name and birth date may already be registered: {names}. If it is the same person, ' +
    'do not register them again: open their record and fill in a visit.',
];
const OPEN = ['Buka data {name}', 'Open the record of {name}'];

// --- names as server/domain/duplicates.py folds them (tests/name_key_vectors.json keeps them equal) ---
const TITLES = new Set(('alm almarhum almarhumah almh amd bapak bp bpk bu dr dra drs h hajah haji hajjah hajji hj ' +
  'ibu ir kakek kh mbah nenek ny nyonya pak sag sdr sdri se sh skm spd ssos st tn tuan ust ustad ustadz').split(' '));
const VARIANTS = {
  sitti: 'siti', sity: 'siti', muhamad: 'muhammad', mohammad: 'muhammad', mohamad: 'muhammad', muhammmad: 'muhammad',
  moh: 'muhammad', mohd: 'muhammad', muh: 'muhammad', mochammad: 'muhammad', mochamad: 'muhammad',
  mokhammad: 'muhammad', md: 'muhammad', m: 'muhammad', achmad: 'ahmad', akhmad: 'ahmad', ahmat: 'ahmad',
  abd: 'abdul', noer: 'nur', nor: 'nur', jusuf: 'yusuf', yosef: 'yusuf', fatima: 'fatimah', aisah: 'aisyah',
  aishah: 'aisyah',
};
const OLD_SPELLING = [['tj', 'c'], ['dj', 'j'], ['sj', 'sy'], ['nj', 'ny'], ['oe', 'u'], ['ch', 'kh']];
const SOUNDS = [['kh', 'h'], ['sy', 's'], ['ph', 'f'], ['v', 'f'], ['z', 's'], ['q', 'k'], ['x', 'ks'], ['dh', 'd'],
  ['th', 't'], ['y', 'i'], ['w', 'u'], ['e', 'a'], ['o', 'u']];
const all = (text, pairs) => pairs.reduce((t, p) => t.split(p[0]).join(p[1]), text);

export function nameKey(name) {
  const plain = String(name || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const words = plain.replace(/['’]/g, '').replace(/[^0-9a-z]+/g, ' ').trim().split(/ +/).filter(Boolean);
  const kept = words.filter((w) => !TITLES.has(w)).map((w) => VARIANTS[w] || w);
  return (kept.length ? kept : words).join(' ');
}

export function soundKey(key) {
  return key.split(' ').filter(Boolean).map((word) =>
    all(all(word, OLD_SPELLING), SOUNDS).replace(/h+$/, '').replace(/(.)\1+/g, '$1')).join(' ');
}

const swapped = (d) => (d.length === 10 && +d.slice(8, 10) <= 12 ? d.slice(0, 5) + d.slice(8, 10) + '-' + d.slice(5, 7) : '');

// The people of the copy who may be this person: the same folded name or sound, born on the day
// (or with day and month swapped); not the record being corrected (its own intake).
export function samePerson(copy, name, birth, own) {
  const key = nameKey(name), sound = soundKey(key), days = [birth, swapped(birth)];
  const found = [];
  if (!key || birth.length !== 10) return found;
  copy.forEach((e) => {
    if (e.id === own || !e.b || days.indexOf(e.b) < 0) return;
    const k = e.nk || (e.nk = nameKey(e.name));
    if (k === key || soundKey(k) === sound) found.push(e);
  });
  return found;
}

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

const names = (found) => found.map((e) => e.name + ' (' + e.desa + ')').join(', ');

function showPerson(F, field, found, en) {
  const w = F.wrapper(field);
  if (!w) return;
  F.part(w, 'p.dupperson', 'p', 'warn dupperson', found.length ? [PERSON_TEXT[en].replace('{names}', names(found))] : []);
  let links = w.querySelector('p.dupopen');
  if (!links && found.length) {
    links = document.createElement('p');
    links.className = 'dupopen';
    w.insertBefore(links, w.querySelector('p.dupperson').nextSibling);
  }
  if (!links) return;
  links.textContent = '';
  found.forEach((e) => {
    const a = document.createElement('a');
    a.href = '/penerima/' + encodeURIComponent(e.id);
    a.textContent = OPEN[en].replace('{name}', e.name);
    links.appendChild(a);
    links.appendChild(document.createTextNode(' '));
  });
  links.hidden = !found.length;
}

export async function attach(R, F) {
  const kkField = R.dup[0], nameField = R.dup[1], birthField = R.dup[2];
  const en = document.documentElement.lang === 'en' ? 1 : 0;
  const state = await copyOf(R.program), key = state.meta.kk;
  const idInput = document.querySelector('[name="_id"]');
  const own = () => (idInput ? idInput.value : '');
  let typed = '', shared = [], person = '';
  const showKK = () => {
    const w = F.wrapper(kkField);
    if (w) F.part(w, 'p.kkdup', 'p', 'warn kkdup', shared.length ? [KK_TEXT[en].replace('{names}', names(shared))] : []);
  };
  F.hooks.push((values) => {
    const name = String(values[nameField] || ''), birth = String(values[birthField] || '');
    if (birthField && name + '|' + birth !== person) {
      person = name + '|' + birth;
      showPerson(F, birthField, samePerson(state.copy, name, birth, own()), en);
    }
    const digits = kkField ? String(values[kkField] || '').replace(/\D/g, '') : '';
    if (!kkField || digits === typed) return;
    typed = digits;
    shared = [];
    showKK();
    if (digits.length !== 16 || !key || !window.crypto || !crypto.subtle) return;
    tagOf(key, digits).then((tag) => {
      if (typed !== digits) return; // typed on meanwhile
      shared = sharing(state.copy, tag, own());
      showKK();
    }).catch(() => {});
  });
  F.refresh();
}
