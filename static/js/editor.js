// The form editor: a structured view of the form document (the same plain document staff
// write as YAML: settings, choices, fields) and a YAML text view of it. The browser holds the
// document; every save sends it (or the YAML) to the server, which turns it into YAML, compiles and
// checks it, applies the evolution rules and stores it only when it is sound; the answer carries
// both views back, so they stay in sync. Expressions are checked as they are typed with the same
// parser the server uses (expr.js), and typing ${ offers the form's field names.
import { csrf } from './dom.js';
import { parse } from './expr.js';

const doc = document;
const C = JSON.parse(doc.getElementById('editor-config').textContent);
const EN = C.lang === 'en';
const byId = (id) => doc.getElementById(id);
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const SELECTS = ['select_one', 'select_multiple', 'rank'];
const CONTAINERS = ['group', 'repeat'];
// The appearances the phone runtime draws differently (server/web/fill_context.py, docs/forms.md).
const APPEARANCES = { select_one: ['minimal'], text: ['multiline'], image: ['signature'] };
// A default is an expression when it calls a function or refers to a field (server/domain/form.py).
const DYNAMIC_DEFAULT = /\$\{|[A-Za-z][A-Za-z0-9_-]*\s*\(/;

// UI text, Indonesian first.
const T = {
  title_id: ['Judul (Indonesia)', 'Title (Indonesian)'], title_en: ['Judul (Inggris)', 'Title (English)'],
  version: ['Versi', 'Version'], fields: ['Pertanyaan', 'Questions'], lists: ['Daftar pilihan', 'Choice lists'],
  add_q: ['+ Pertanyaan', '+ Question'], add_g: ['+ Kelompok pertanyaan', '+ Group'], add_r: ['+ Pertanyaan berulang', '+ Repeat'],
  add_in: ['+ Pertanyaan di dalamnya', '+ Question inside'], up: ['Naik', 'Up'], down: ['Turun', 'Down'],
  del: ['Hapus', 'Delete'], type: ['Jenis pertanyaan', 'Question type'], name: ['Kode pertanyaan', 'Question code'],
  label_id: ['Label (Indonesia)', 'Label (Indonesian)'], label_en: ['Label (Inggris)', 'Label (English)'],
  hint_id: ['Petunjuk (Indonesia)', 'Hint (Indonesian)'], hint_en: ['Petunjuk (Inggris)', 'Hint (English)'],
  required: ['Wajib diisi', 'Required'], list: ['Daftar pilihan', 'Choice list'],
  choice_filter: ['Saringan pilihan', 'Choice filter'], relevant: ['Tampil jika', 'Shown when'],
  constraint: ['Batasan', 'Constraint'], cm_id: ['Pesan batasan (Indonesia)', 'Constraint message (Indonesian)'],
  cm_en: ['Pesan batasan (Inggris)', 'Constraint message (English)'], calculation: ['Perhitungan', 'Calculation'],
  add_list: ['+ Daftar', '+ List'], add_region: ['+ Daftar wilayah', '+ Region list'], add_choice: ['+ Pilihan', '+ Choice'],
  list_name: ['Nama daftar', 'List name'], region: ['Atau ketik sumbernya, mis. desa 64.02', 'Or type the source, e.g. desa 64.02'],
  value: ['Nilai', 'Value'], columns: ['Kolom lain (kolom=nilai, ...)', 'Other columns (column=value, ...)'],
  saving: ['Menyimpan…', 'Saving…'], saved: ['Tersimpan. Pratinjau diperbarui.', 'Saved. The preview is updated.'],
  not_saved: ['Belum tersimpan: ada {n} masalah. Perbaiki di tempat yang ditandai.', 'Not saved: {n} problem(s). Fix them where marked.'],
  offline: ['Tidak tersambung ke server; belum tersimpan.', 'Cannot reach the server; not saved.'],
  del_question: ["Hapus pertanyaan '{name}'?", "Delete the question '{name}'?"],
  del_group: ["Hapus '{name}' beserta pertanyaan di dalamnya?", "Delete '{name}' and the questions inside it?"],
  held: ['{n} jawaban tetap ada di ekspor dan laporan lama.', '{n} answer(s) stay in exports and older reports.'],
  maybe_held: ['Pertanyaan ini mungkin sudah punya jawaban; jawabannya tetap ada di ekspor dan laporan lama.',
    'This question may already have answers; they stay in exports and older reports.'],
  region_level: ['Jenis wilayah', 'Region level'], region_in: ['Di dalam', 'Within'],
  kecamatan: ['Kecamatan', 'Kecamatan (district)'], desa: ['Desa/kelurahan', 'Desa/kelurahan (village)'],
  add_yes_no: ['+ Daftar Ya/Tidak', '+ Yes/No list'], add_likert: ['+ Skala 1–5 (kepuasan)', '+ 1–5 scale (satisfaction)'],
  new_yes_no: ['Ya/Tidak (siap pakai)', 'Yes/No (ready-made)'], new_likert: ['Skala 1–5 kepuasan (siap pakai)', '1–5 satisfaction scale (ready-made)'],
  add_wilayah: ['+ Wilayah (kecamatan dan desa)', '+ Region (kecamatan and desa)'],
  more: ['Rincian: terjemahan, petunjuk, aturan, pindah', 'Details: translation, hint, rules, moving'],
  b_question: ['Pertanyaan', 'Question'], b_op: ['Pembanding', 'Operator'], b_value: ['Nilai', 'Value'],
  b_write: ['Tulis aturan', 'Write the rule'],
  at_question: ["Pertanyaan '{name}'", "Question '{name}'"],
  unsaved: ['Belum disimpan', 'Not saved yet'], saved_at: ['Tersimpan {when}', 'Saved {when}'],
  published_only: ['Belum ada perubahan dari versi terbit {v}', 'No changes from published version {v}'],
  save_first: ['Perubahan belum bisa disimpan, jadi belum bisa diperiksa, diterbitkan atau diunduh. Perbaiki dulu yang ditandai.',
    'The changes cannot be saved yet, so they cannot be reviewed, published or downloaded. Fix what is marked first.'],
  unknown_ref: ["Pertanyaan '{name}' tidak ada di formulir ini.", "There is no question '{name}' in this form."],
  bad_name: ['Kode pertanyaan mulai dengan huruf, lalu huruf, angka, _ atau - (tanpa spasi).', 'A question code starts with a letter, then letters, digits, _ or - (no spaces).'],
  dup_name: ["Kode '{name}' sudah dipakai pertanyaan lain.", "The code '{name}' is already used by another question."],
  move_to: ['Pindah ke…', 'Move to…'], move: ['Pindahkan', 'Move'], top: ['(tingkat atas)', '(top level)'],
  indent: ['Masuk ke kelompok di atas', 'Into the group above'], outdent: ['Keluar dari kelompok', 'Out of the group'],
  group: ['kelompok', 'group'], repeat: ['pertanyaan berulang', 'repeat'],
  repeat_count: ['Berapa kali diulang (ekspresi)', 'Number of repeats (expression)'],
  min_count: ['Paling sedikit', 'At least'], max_count: ['Paling banyak', 'At most'],
  bounds: ['Paling sedikit tidak boleh lebih dari paling banyak.', 'At least must not be more than at most.'],
  layout: ['Tampilan kelompok', 'Group layout'], section: ['bagian (judul)', 'section (a heading)'],
  page: ['halaman sendiri', 'a page of its own'],
  appearance: ['Tampilan', 'Appearance'], plain: ['(biasa)', '(plain)'],
  minimal: ['minimal: daftar tarik-turun', 'minimal: a drop-down list'],
  multiline: ['multiline: beberapa baris', 'multiline: several lines'],
  signature: ['signature: tanda tangan', 'signature: a signature'],
  default: ['Nilai awal (nilai, atau ekspresi seperti today())', 'Default (a value, or an expression such as today())'],
  p_sex: ['Jenis kelamin dari pertanyaan', 'Sex from the question'],
  p_birth_date: ['Tanggal lahir dari pertanyaan', 'Birth date from the question'],
  p_registered: ['Tanggal pendaftaran dari pertanyaan', 'Registration date from the question'],
  p_kk: ['No. KK dari pertanyaan', 'Family card number from the question'],
  p_nik: ['NIK dari pertanyaan', 'NIK from the question'],
  p_max_accuracy: ['Akurasi GPS terburuk (meter)', 'Worst GPS accuracy (metres)'],
  p_max_pixels: ['Ukuran foto terbesar (piksel)', 'Largest photo size (pixels)'],
  column: ['kolom', 'column'], line: ['baris', 'line'], none: ['(tidak ada)', '(none)'],
};
// The question types in staff's words, most used first, each with a one-line explanation.
const TYPES = {
  text: ['Teks', 'Text', 'Jawaban bebas berupa kata atau kalimat', 'Free words or sentences'],
  integer: ['Angka bulat', 'Whole number', 'Bilangan tanpa koma, mis. umur atau jumlah anak', 'A number without decimals, e.g. age'],
  select_one: ['Pilihan satu', 'Single choice', 'Satu jawaban dari daftar pilihan', 'One answer from a choice list'],
  select_multiple: ['Pilihan ganda', 'Multiple choice', 'Boleh lebih dari satu jawaban dari daftar', 'Any number of answers from a list'],
  rupiah: ['Rupiah', 'Rupiah', 'Jumlah uang dalam rupiah, ditulis dengan titik ribuan', 'An amount of money in rupiah'],
  nik: ['NIK', 'NIK', 'Nomor Induk Kependudukan 16 angka, diperiksa dan disamarkan', '16-digit national ID, checked and masked'],
  image: ['Foto', 'Photo', 'Foto dari kamera HP (atau tanda tangan)', 'A photo from the phone camera (or a signature)'],
  geopoint: ['Lokasi GPS', 'GPS location', 'Titik lokasi dari GPS HP', "A point from the phone's GPS"],
  date: ['Tanggal', 'Date', 'Tanggal dari kalender', 'A date from a calendar'],
  note: ['Catatan', 'Note', 'Teks untuk dibaca petugas, tanpa jawaban', 'Text to read, no answer'],
  acknowledge: ['Persetujuan', 'Consent', 'Satu centang: setuju atau tidak', 'One tick: agreed or not'],
  group: ['Kelompok pertanyaan', 'Group of questions', 'Beberapa pertanyaan di bawah satu judul atau halaman', 'Questions under one heading or page'],
  repeat: ['Pertanyaan berulang', 'Repeated questions', 'Pertanyaan yang diisi beberapa kali, mis. tiap anggota keluarga', 'Questions filled several times, e.g. per household member'],
  decimal: ['Angka desimal', 'Decimal number', 'Bilangan dengan koma, mis. berat badan', 'A number with decimals, e.g. weight'],
  time: ['Jam', 'Time', 'Jam dan menit', 'Hours and minutes'],
  datetime: ['Tanggal dan jam', 'Date and time', 'Tanggal beserta jamnya', 'A date with its time'],
  no_kk: ['No. KK', 'Family card no.', 'Nomor Kartu Keluarga 16 angka, diperiksa dan disamarkan', '16-digit family card number, checked and masked'],
  phone: ['Nomor HP', 'Phone number', 'Nomor telepon seluler Indonesia', 'An Indonesian mobile number'],
  beneficiary: ['Penerima manfaat', 'Beneficiary', 'Memilih penerima dari registri program', "Picks a beneficiary from the programme's registry"],
  calculate: ['Hitungan', 'Calculation', 'Nilai yang dihitung dari jawaban lain, tidak ditanyakan', 'A value computed from other answers, not asked'],
  hidden: ['Nilai tersembunyi', 'Hidden value', 'Nilai tetap yang ikut tersimpan, tidak ditampilkan', 'A fixed value stored, not shown'],
  rank: ['Urutan peringkat', 'Ranking', 'Petugas mengurutkan semua pilihan dari yang terpenting', 'Every choice put in order, most important first'],
};
const typeName = (ty) => (TYPES[ty] ? TYPES[ty][EN ? 1 : 0] : ty);
const typeHelp = (ty) => (TYPES[ty] ? TYPES[ty][EN ? 3 : 2] : '');
const t = (key, p) => String(T[key][EN ? 1 : 0]).replace(/\{(\w+)\}/g, (m, k) => (p && k in p ? p[k] : m));

let D = normalize(C.document);
let serverProblems = C.problems || [];

// --- the document ---------------------------------------------------------------------------------------
function text(v) { return typeof v === 'string' ? { id: v } : Object.assign({}, v || {}); }

function normalize(document) {
  const d = JSON.parse(JSON.stringify(document || {}));
  d.settings = d.settings || {};
  d.settings.title = text(d.settings.title);
  d.choices = d.choices || {};
  Object.keys(d.choices).forEach((name) => {
    const list = d.choices[name];
    if (Array.isArray(list) || list.wilayah) return;
    d.choices[name] = Object.keys(list).map((k) => ({ name: k, label: text(list[k]) })); // the short form
  });
  d.fields = d.fields || [];
  walk(d.fields, (f) => { f.label = text(f.label); f.hint = text(f.hint); if (f.constraint_message) f.constraint_message = text(f.constraint_message); });
  return d;
}

function walk(fields, fn) { fields.forEach((f) => { fn(f); if (f.fields) walk(f.fields, fn); }); }

function typeOf(f) { return String(f.type || 'text').split(/\s+/)[0]; }
function listOf(f) { return f.choices && typeof f.choices === 'string' ? f.choices : String(f.type || '').split(/\s+/)[1] || ''; }
function setType(f, base, list) {
  if (base !== 'repeat') { delete f.repeat_count; delete f.min_count; delete f.max_count; }
  if (base !== 'group') delete f.layout;
  if (CONTAINERS.indexOf(base) >= 0) { f.type = base; f.fields = f.fields || []; return; }
  const info = C.type_info[base] || {};
  const takes = (info.field_parameters || []).concat(info.literal_parameters || []);
  if (f.parameters) Object.keys(f.parameters).forEach((k) => { if (takes.indexOf(k) < 0) delete f.parameters[k]; });
  if (!info.default) delete f.default;
  if (f.appearance && (APPEARANCES[base] || []).indexOf(f.appearance) < 0) delete f.appearance;
  delete f.fields;
  if (f.choices && typeof f.choices === 'string') delete f.choices;
  f.type = SELECTS.indexOf(base) >= 0 ? base + ' ' + (list || Object.keys(D.choices)[0] || '') : base;
  f.type = f.type.trim();
}

function names() { const out = []; walk(D.fields, (f) => out.push(f.name)); return out; }

function uniqueName(stem) {
  const used = names();
  let n = 1;
  while (used.indexOf(stem + '_' + n) >= 0) n++;
  return stem + '_' + n;
}

function fieldsAt(path) {
  let list = D.fields;
  path.forEach((i) => { list = list[i].fields; });
  return list;
}

// Empty texts, empty attributes and false flags are left out, as the server writes them.
function clean(value) {
  if (Array.isArray(value)) return value.map(clean);
  if (value && typeof value === 'object') {
    const out = {};
    Object.keys(value).forEach((k) => {
      const v = clean(value[k]);
      const empty = v === '' || v === null || v === undefined || v === false
        || (typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length);
      if (!empty || k === 'fields') out[k] = v;
    });
    return out;
  }
  return typeof value === 'string' && !value.trim() ? '' : value;
}

// --- small DOM helpers ------------------------------------------------------------------------------------
function make(tag, props, kids) {
  const e = doc.createElement(tag);
  Object.keys(props || {}).forEach((k) => {
    if (k === 'class') e.className = props[k];
    else if (k === 'text') e.textContent = props[k];
    else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), props[k]);
    else e.setAttribute(k, props[k]);
  });
  (kids || []).forEach((c) => { if (c) e.appendChild(c); });
  return e;
}

function input(label, cls, value, onInput, extra) {
  const id = 'i' + Math.random().toString(36).slice(2, 9);
  const box = make('div', { class: 'in ' + cls });
  box.appendChild(make('label', { for: id, text: label }));
  const e = make('input', Object.assign({ id: id, class: cls, value: value || '' }, extra || {}));
  e.value = value || '';
  e.addEventListener('input', () => onInput(e.value, e, box));
  box.appendChild(e);
  return box;
}

function button(label, cls, onClick) {
  return make('button', { type: 'button', class: cls, text: label, onclick: (ev) => { ev.preventDefault(); onClick(); } });
}

// --- expressions: checked as typed -----------------------------------------------------------------------
// A choice filter's bare names are columns of the choice offered (docs/forms.md, Choice filters).
function columnsOf(listName) {
  const list = D.choices[listName];
  const cols = ['name', 'label'];
  if (list && list.wilayah) cols.push('parent');
  if (Array.isArray(list)) list.forEach((c) => Object.keys(c).forEach((k) => { if (cols.indexOf(k) < 0) cols.push(k); }));
  return cols;
}

function checkExpression(value, f, attribute) {
  if (!value || !value.trim()) return '';
  let source = value;
  if (attribute === 'choice_filter') {
    columnsOf(listOf(f)).forEach((col) => {
      source = source.replace(new RegExp('(^|[^\\w${.])' + col + '(?![\\w(])', 'g'), (m, pre) => pre + '${_choice_' + col + '}');
    });
  }
  try {
    parse(source);
  } catch (e) {
    return (EN ? e.messageEn : e.messageId) + ' (' + t('column') + ' ' + e.column + ')';
  }
  const known = names();
  const refs = source.match(/\$\{([^}]*)\}/g) || [];
  for (const ref of refs) {
    const name = ref.slice(2, -1);
    if (name.indexOf('_choice_') !== 0 && known.indexOf(name) < 0) return t('unknown_ref', { name: name });
  }
  return '';
}

// `isExpression` says when the text is an expression at all (a default may be a plain value).
function exprInput(label, f, attribute, isExpression) {
  const check = (v) => (!isExpression || isExpression(v) ? checkExpression(v, f, attribute) : '');
  const box = input(label, 'x-' + attribute, f[attribute], (v, e, b) => {
    f[attribute] = v;
    showExprError(e, b, check(v));
    suggest(e, b);
  }, { autocomplete: 'off', spellcheck: 'false' });
  const e = box.querySelector('input');
  e.addEventListener('keydown', (ev) => completeKey(ev, e, box));
  e.addEventListener('blur', () => setTimeout(() => closeSuggest(box), 150));
  setTimeout(() => showExprError(e, box, check(e.value)));
  return box;
}

// --- field-name completion: typing "${" offers the form's field names at the cursor -------------------------
function suggest(e, box) {
  const before = e.value.slice(0, e.selectionStart), m = /\$\{([A-Za-z0-9_-]*)$/.exec(before);
  closeSuggest(box);
  if (!m) return;
  const found = names().filter((n) => n && n.indexOf(m[1]) === 0 && n !== m[1]).slice(0, 8);
  if (!found.length) return;
  const ul = make('ul', { class: 'suggest', role: 'listbox' });
  found.forEach((n, i) => ul.appendChild(make('li', {
    role: 'option', 'aria-selected': String(i === 0), 'data-name': n, text: n,
    onmousedown: (ev) => { ev.preventDefault(); insertName(e, box, n); },
  })));
  box.appendChild(ul);
}

function closeSuggest(box) {
  const ul = box.querySelector('ul.suggest');
  if (ul) ul.remove();
}

function completeKey(ev, e, box) {
  const ul = box.querySelector('ul.suggest');
  if (!ul) return;
  const items = Array.from(ul.children), at = items.findIndex((li) => li.getAttribute('aria-selected') === 'true');
  if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
    ev.preventDefault();
    const next = (at + (ev.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
    items.forEach((li, i) => li.setAttribute('aria-selected', String(i === next)));
  } else if (ev.key === 'Enter' || ev.key === 'Tab') {
    ev.preventDefault();
    insertName(e, box, items[Math.max(at, 0)].getAttribute('data-name'));
  } else if (ev.key === 'Escape') closeSuggest(box);
}

function insertName(e, box, name) {
  const cut = e.selectionStart, before = e.value.slice(0, cut).replace(/\$\{[A-Za-z0-9_-]*$/, '${' + name + '}');
  const after = e.value.slice(cut).replace(/^[A-Za-z0-9_-]*\}?/, '');
  e.value = before + after;
  e.setSelectionRange(before.length, before.length);
  closeSuggest(box);
  e.dispatchEvent(new Event('input', { bubbles: true }));
  closeSuggest(box);
}

function showExprError(e, box, message) {
  let err = box.querySelector('.xerr');
  if (!err) { err = make('p', { class: 'xerr', role: 'alert' }); box.appendChild(err); }
  err.textContent = message;
  err.hidden = !message;
  e.setAttribute('aria-invalid', message ? 'true' : 'false');
}

// --- the structure view --------------------------------------------------------------------------------------
function render() {
  const root = byId('structure');
  root.textContent = '';
  root.appendChild(settingsBox());
  const box = make('section', { class: 'fields-box' }, [make('h2', { text: t('fields') })]);
  box.appendChild(fieldList(D.fields, []));
  box.appendChild(make('div', { class: 'adds' }, [
    button(t('add_q'), 'add-question', () => add([], 'text')),
    button(t('add_g'), 'add-group', () => add([], 'group')),
    button(t('add_r'), 'add-repeat', () => add([], 'repeat')),
    button(t('add_wilayah'), 'add-wilayah', () => addRegionPair([]))]));
  root.appendChild(box);
  root.appendChild(listsBox());
  markProblems();
}

function settingsBox() {
  const s = D.settings;
  return make('section', { class: 'settings-box' }, [
    input(t('title_id'), 's-title-id', s.title.id, (v) => { s.title.id = v; }),
    input(t('title_en'), 's-title-en', s.title.en, (v) => { s.title.en = v; }),
    input(t('version'), 's-version', s.version, (v) => { s.version = v; })]);
}

function fieldList(fields, path) {
  const ol = make('ol', { class: 'fields' });
  fields.forEach((f, i) => ol.appendChild(fieldCard(f, path.concat([i]), fields.length)));
  return ol;
}

function fieldCard(f, path, siblings) {
  const base = typeOf(f), container = CONTAINERS.indexOf(base) >= 0;
  const li = make('li', { class: 'field ' + (container ? 'container' : 'question'), 'data-name': f.name || '', 'data-path': path.join('.') });
  const help = 'h' + Math.random().toString(36).slice(2, 9);
  const type = make('select', { class: 'f-type', 'aria-label': t('type'), 'aria-describedby': help });
  Object.keys(TYPES).filter((ty) => C.types.indexOf(ty) >= 0 || CONTAINERS.indexOf(ty) >= 0)
    .concat(C.types.filter((ty) => !TYPES[ty])).forEach((ty) => {
    const o = make('option', { value: ty, text: typeName(ty), title: typeHelp(ty) });
    if (ty === base) o.selected = true;
    type.appendChild(o);
  });
  type.addEventListener('change', () => { setType(f, type.value, listOf(f)); render(); });
  const nameBox = input(t('name'), 'f-name', f.name, (v, e, box) => {
    if (OPEN.delete(f.name)) OPEN.add(v);
    f.name = v;
    li.setAttribute('data-name', v);
    const used = names().filter((n) => n === v).length > 1;
    showExprError(e, box, !NAME_RE.test(v) ? t('bad_name') : used ? t('dup_name', { name: v }) : '');
  }, { autocomplete: 'off', spellcheck: 'false' });
  const at = path[path.length - 1], above = at > 0 ? fieldsAt(path.slice(0, -1))[at - 1] : null;
  // Compact: the head shows type, code and label with the rules that are set; the rest opens on demand.
  const head = make('div', { class: 'head' }, [type, nameBox,
    input(t('label_id'), 'f-label-id', f.label.id, (v) => { f.label.id = v; }),
    at > 0 ? button(t('up'), 'f-up', () => move(path, -1)) : null,
    at < siblings - 1 ? button(t('down'), 'f-down', () => move(path, 1)) : null,
    button(t('del'), 'f-del danger', () => remove(path))]);
  li.appendChild(head);
  li.appendChild(rulesLine(f, base));
  const moves = make('div', { class: 'moves' }, [make('small', { class: 'f-type-help', id: help, text: typeHelp(base) }),
    above && CONTAINERS.indexOf(typeOf(above)) >= 0 ? button(t('indent'), 'f-indent', () => indent(path)) : null,
    path.length > 1 ? button(t('outdent'), 'f-outdent', () => outdent(path)) : null,
    movePicker(f, path)]);
  const grid = make('div', { class: 'grid' }, [
    input(t('label_en'), 'f-label-en', f.label.en, (v) => { f.label.en = v; }),
    input(t('hint_id'), 'f-hint-id', f.hint.id, (v) => { f.hint.id = v; }),
    input(t('hint_en'), 'f-hint-en', f.hint.en, (v) => { f.hint.en = v; })]);
  if (!container) grid.appendChild(requiredBox(f));
  if (SELECTS.indexOf(base) >= 0) {
    grid.appendChild(listPicker(f));
    grid.appendChild(exprInput(t('choice_filter'), f, 'choice_filter'));
  }
  const relevant = exprInput(t('relevant'), f, 'relevant');
  grid.appendChild(relevant);
  grid.appendChild(ruleBuilder(f, relevant, false));
  if (!container && base !== 'calculate' && base !== 'note') {
    const constraint = exprInput(t('constraint'), f, 'constraint');
    grid.appendChild(constraint);
    grid.appendChild(ruleBuilder(f, constraint, true));
    f.constraint_message = text(f.constraint_message);
    grid.appendChild(input(t('cm_id'), 'f-cm-id', f.constraint_message.id, (v) => { f.constraint_message.id = v; }));
    grid.appendChild(input(t('cm_en'), 'f-cm-en', f.constraint_message.en, (v) => { f.constraint_message.en = v; }));
  }
  if (base === 'calculate' || f.calculation) grid.appendChild(exprInput(t('calculation'), f, 'calculation'));
  typeDetails(f, base).forEach((box) => grid.appendChild(box));
  const more = make('details', { class: 'more' }, [make('summary', { text: t('more') }), moves, grid]);
  more.open = OPEN.has(f.name);
  more.addEventListener('toggle', () => { if (more.open) OPEN.add(f.name); else OPEN.delete(f.name); });
  li.appendChild(more);
  li.appendChild(make('ul', { class: 'perr' }));
  if (container) {
    li.appendChild(fieldList(f.fields, path));
    li.appendChild(button(t('add_in'), 'add-inside', () => add(path, 'text')));
  }
  return li;
}

// "Tampil jika" and "Batasan" from lists: a question (or this answer), an operator and a value;
// the expression is written into the box above, where it can still be typed freely.
const OPS = [['=', 'sama dengan', 'equals'], ['!=', 'tidak sama dengan', 'is not'], ['>', 'lebih dari', 'more than'],
  ['>=', 'paling sedikit', 'at least'], ['<', 'kurang dari', 'less than'], ['<=', 'paling banyak', 'at most']];
const NUMERIC = ['integer', 'decimal', 'rupiah'];

function fieldNamed(name) { let found = null; walk(D.fields, (g) => { if (g.name === name) found = g; }); return found; }

function ruleBuilder(f, box, self) {
  const id = 'v' + Math.random().toString(36).slice(2, 9);
  const others = [];
  walk(D.fields, (g) => { if (g !== f && g.name && CONTAINERS.indexOf(typeOf(g)) < 0 && typeOf(g) !== 'note') others.push(g.name); });
  const q = self ? null : make('select', { class: 'b-question', 'aria-label': t('b_question') });
  if (q) others.forEach((n) => q.appendChild(make('option', { value: n, text: n })));
  const op = make('select', { class: 'b-op', 'aria-label': t('b_op') });
  OPS.forEach((o) => op.appendChild(make('option', { value: o[0], text: o[0] + ' ' + o[EN ? 2 : 1] })));
  const value = make('input', { class: 'b-value', 'aria-label': t('b_value'), list: id, autocomplete: 'off' });
  const offered = make('datalist', { id: id });
  const offer = () => {
    offered.textContent = '';
    const target = self ? f : fieldNamed(q.value), list = target && D.choices[listOf(target)];
    if (Array.isArray(list)) list.forEach((c) => offered.appendChild(make('option', { value: c.name, label: text(c.label).id || c.name })));
  };
  if (q) q.addEventListener('change', offer);
  offer();
  const write = button(t('b_write'), 'b-write', () => {
    const target = self ? f : fieldNamed(q && q.value);
    if (!target) return;
    const raw = value.value.trim(), number = NUMERIC.indexOf(typeOf(target)) >= 0 && /^-?[0-9]+(\.[0-9]+)?$/.test(raw);
    const e = box.querySelector('input');
    e.value = (self ? '.' : '${' + target.name + '}') + ' ' + op.value + ' ' + (number ? raw : "'" + raw.replace(/'/g, '') + "'");
    e.dispatchEvent(new Event('input', { bubbles: true }));
  });
  return make('div', { class: 'builder' }, [q, op, value, offered, write]);
}

// The cards whose details are open, by question code: kept across redraws and saves.
const OPEN = new Set();

function rulesLine(f, base) {
  const rules = [];
  if (f.required === true) rules.push(t('required'));
  else if (typeof f.required === 'string' && f.required) rules.push(t('required') + ': ' + f.required);
  if (SELECTS.indexOf(base) >= 0 && listOf(f)) rules.push(t('list') + ': ' + listOf(f));
  ['choice_filter', 'relevant', 'constraint', 'calculation', 'repeat_count'].forEach((k) => {
    if (f[k]) rules.push(t(k) + ': ' + f[k]);
  });
  return make('p', { class: 'rules' }, rules.map((r) => make('span', { class: 'rule', text: r })));
}

function requiredBox(f) {
  if (typeof f.required === 'string') return exprInput(t('required'), f, 'required');
  const id = 'r' + Math.random().toString(36).slice(2, 9);
  const box = make('label', { class: 'check f-required-box', for: id });
  const e = make('input', { type: 'checkbox', id: id, class: 'f-required' });
  e.checked = f.required === true;
  e.addEventListener('change', () => { f.required = e.checked; });
  box.appendChild(e);
  box.appendChild(doc.createTextNode(' ' + t('required')));
  return box;
}

// --- what a type adds: repeat counts, group layout, appearance, default, parameters ---------------------------
function typeDetails(f, base) {
  if (base === 'repeat') return repeatBoxes(f);
  if (base === 'group') return [choiceBox(t('layout'), 'f-layout', f.layout || 'section', [['section', t('section')], ['page', t('page')]], (v) => { if (v === 'section') delete f.layout; else f.layout = v; })];
  const out = [], info = C.type_info[base] || {};
  const looks = APPEARANCES[base] || [];
  if (looks.length || f.appearance) {
    const options = [['', t('plain')]].concat(looks.map((a) => [a, T[a] ? t(a) : a]));
    if (f.appearance && looks.indexOf(f.appearance) < 0) options.push([f.appearance, f.appearance]); // from YAML: kept
    out.push(choiceBox(t('appearance'), 'f-appearance', f.appearance || '', options, (v) => { if (v) f.appearance = v; else delete f.appearance; }));
  }
  if (info.default) out.push(exprInput(t('default'), f, 'default', (v) => DYNAMIC_DEFAULT.test(v)));
  (info.field_parameters || []).forEach((p) => out.push(fieldParameter(f, p)));
  (info.literal_parameters || []).forEach((p) => out.push(numberInput(T['p_' + p] ? t('p_' + p) : p, 'p-' + p,
    (f.parameters || {})[p], (v) => { f.parameters = f.parameters || {}; if (v === '') delete f.parameters[p]; else f.parameters[p] = v; })));
  return out;
}

function repeatBoxes(f) {
  const bounds = () => {
    const lo = f.min_count, hi = f.max_count;
    return typeof lo === 'number' && typeof hi === 'number' && lo > hi ? t('bounds') : '';
  };
  const count = (key) => numberInput(t(key), 'f-' + key, f[key], (v, e, box) => {
    if (v === '') delete f[key]; else f[key] = parseInt(v, 10);
    showExprError(e, box, bounds());
  });
  return [exprInput(t('repeat_count'), f, 'repeat_count'), count('min_count'), count('max_count')];
}

function numberInput(label, cls, value, onInput) {
  return input(label, cls, value === undefined || value === null ? '' : String(value), onInput, { type: 'number', min: '0', step: '1', inputmode: 'numeric' });
}

function choiceBox(label, cls, value, options, onChange) {
  const id = 's' + Math.random().toString(36).slice(2, 9);
  const sel = make('select', { id: id, class: cls });
  options.forEach((o) => {
    const opt = make('option', { value: o[0], text: o[1] });
    if (o[0] === value) opt.selected = true;
    sel.appendChild(opt);
  });
  sel.addEventListener('change', () => onChange(sel.value));
  return make('div', { class: 'in ' + cls + '-box' }, [make('label', { for: id, text: label }), sel]);
}

// A parameter naming another question (a NIK's sex and birth date, ...): chosen from the form's names.
function fieldParameter(f, p) {
  const current = (f.parameters || {})[p] || '';
  const options = [['', t('none')]].concat(names().filter((n) => n && n !== f.name).map((n) => [n, n]));
  if (current && names().indexOf(current) < 0) options.push([current, current]);
  return choiceBox(T['p_' + p] ? t('p_' + p) : p, 'p-' + p, current, options, (v) => {
    f.parameters = f.parameters || {};
    if (v) f.parameters[p] = v; else delete f.parameters[p];
  });
}

function listPicker(f) {
  const id = 'l' + Math.random().toString(36).slice(2, 9);
  const sel = make('select', { id: id, class: 'f-list' });
  const current = listOf(f);
  sel.appendChild(make('option', { value: '', text: t('none') }));
  Object.keys(D.choices).forEach((n) => {
    const o = make('option', { value: n, text: n });
    if (n === current) o.selected = true;
    sel.appendChild(o);
  });
  sel.appendChild(make('option', { value: '+ya_tidak', text: t('new_yes_no') }));
  sel.appendChild(make('option', { value: '+skala_puas', text: t('new_likert') }));
  sel.addEventListener('change', () => {
    const ready = sel.value.charAt(0) === '+';
    setType(f, typeOf(f), ready ? readyList(sel.value.slice(1)) : sel.value);
    if (ready) render();
  });
  return make('div', { class: 'in f-list-box' }, [make('label', { for: id, text: t('list') }), sel]);
}

function add(path, type) {
  const f = { type: 'text', name: uniqueName(type === 'text' ? 'pertanyaan' : type === 'group' ? 'kelompok' : 'berulang'), label: { id: '' }, hint: {} };
  setType(f, type, '');
  fieldsAt(path).push(f);
  OPEN.add(f.name); // a new question opens whole: everything about it is still to be filled
  render();
  const cards = byId('structure').querySelectorAll('li.field[data-name="' + f.name + '"] .f-name');
  if (cards.length) cards[0].focus();
}

function move(path, by) {
  const list = fieldsAt(path.slice(0, -1)), i = path[path.length - 1];
  const moved = list.splice(i, 1)[0];
  list.splice(i + by, 0, moved);
  render();
}

// Into and out of groups and repeats: keyboard-reachable buttons and a "move to" list, no dragging.
function containers(fields, path, depth, skip, out) {
  fields.forEach((f, i) => {
    if (f === skip || CONTAINERS.indexOf(typeOf(f)) < 0) return;
    out.push({ path: path.concat([i]), label: '\u00a0\u00a0'.repeat(depth) + (f.name || '?') + ' (' + t(typeOf(f)) + ')' });
    containers(f.fields || [], path.concat([i]), depth + 1, skip, out);
  });
  return out;
}

function movePicker(f, path) {
  const parent = path.slice(0, -1).join('.');
  const options = [['', t('move_to')]];
  if (path.length > 1) options.push(['top', t('top')]);
  containers(D.fields, [], 0, f, []).forEach((c) => { if (c.path.join('.') !== parent) options.push([c.path.join('.'), c.label]); });
  if (options.length < 2) return null;
  const box = choiceBox(t('move_to'), 'f-move', '', options, () => {});
  // The first option already says "Move to…": the select carries the name, not a second visible label.
  const sel = box.querySelector('select');
  sel.setAttribute('aria-label', t('move_to') + ' ' + (f.name || ''));
  box.querySelector('label').remove();
  // Moved only by the button: arrow keys on a closed select fire "change" at every step.
  box.appendChild(button(t('move'), 'f-move-go', () => {
    if (sel.value) moveInto(path, sel.value === 'top' ? [] : sel.value.split('.').map(Number), 'f-move');
  }));
  return box;
}

// Moves the field at `path` to the end of the container at `target` ([] = the top level).
function moveInto(path, target, focusClass, index) {
  const from = fieldsAt(path.slice(0, -1)), moved = from[path[path.length - 1]];
  const into = fieldsAt(target); // resolved before the splice: the target's path may shift after it
  from.splice(path[path.length - 1], 1);
  into.splice(index === undefined ? into.length : index, 0, moved);
  render();
  refocus(moved, focusClass);
}

function indent(path) {
  moveInto(path, path.slice(0, -1).concat([path[path.length - 1] - 1]), 'f-indent');
}

function outdent(path) {
  const parentPath = path.slice(0, -1), grand = parentPath.slice(0, -1);
  const from = fieldsAt(parentPath), moved = from.splice(path[path.length - 1], 1)[0];
  fieldsAt(grand).splice(parentPath[parentPath.length - 1] + 1, 0, moved); // right after its old group
  render();
  refocus(moved, 'f-outdent');
}

function pathOf(target, fields, path) {
  for (let i = 0; i < fields.length; i++) {
    if (fields[i] === target) return path.concat([i]);
    const inner = fields[i].fields ? pathOf(target, fields[i].fields, path.concat([i])) : null;
    if (inner) return inner;
  }
  return null;
}

// Keeps the keyboard where it was: on the same control of the moved card, else on its "move to" list.
function refocus(moved, cls) {
  const path = pathOf(moved, D.fields, []);
  const card = path && byId('structure').querySelector('li.field[data-path="' + path.join('.') + '"]');
  if (!card) return;
  const own = (sel) => card.querySelector(':scope > .head ' + sel) || card.querySelector(':scope > details > .moves ' + sel);
  const target = own('.' + cls) || own('select.f-move') || own('input.f-name');
  if (target) target.focus();
}

async function remove(path) {
  const f = fieldsAt(path.slice(0, -1))[path[path.length - 1]];
  const held = await answersIn(f);
  if (held !== 0 && !window.confirm(deleteQuestion(f, held))) return;
  fieldsAt(path.slice(0, -1)).splice(path[path.length - 1], 1);
  render();
  changed();
}

// Answers already collected for a field (and what it contains), from the published records: 0 when none,
// null when the server could not be asked (then the question is asked anyway).
let answerCounts = null;
async function answersIn(f) {
  if (!C.versions || !C.versions.length) return 0;
  if (!answerCounts) {
    try {
      const r = await fetch(C.answers, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      answerCounts = (await r.json()).counts;
    } catch (e) {
      return null;
    }
  }
  let n = 0;
  walk([f], (g) => { if (CONTAINERS.indexOf(typeOf(g)) < 0) n += answerCounts[g.name] || 0; });
  return n;
}

function deleteQuestion(f, held) {
  const what = t(CONTAINERS.indexOf(typeOf(f)) >= 0 ? 'del_group' : 'del_question', { name: f.name || '?' });
  return what + ' ' + (held === null ? t('maybe_held') : t('held', { n: held }));
}

// --- choice lists --------------------------------------------------------------------------------------------
function listsBox() {
  const box = make('section', { class: 'lists-box' }, [make('h2', { text: t('lists') })]);
  Object.keys(D.choices).forEach((name) => box.appendChild(listCard(name)));
  box.appendChild(make('div', { class: 'adds' }, [
    button(t('add_list'), 'add-list', () => { D.choices[uniqueList('pilihan')] = [{ name: '1', label: { id: '' } }]; render(); }),
    button(t('add_region'), 'add-region', () => { D.choices[uniqueList('wilayah')] = { wilayah: 'kecamatan 64.02' }; render(); }),
    button(t('add_yes_no'), 'add-yes-no', () => { readyList('ya_tidak'); render(); }),
    button(t('add_likert'), 'add-likert', () => { readyList('skala_puas'); render(); })]));
  return box;
}

// Lists every survey needs, one click away: made once, reused when already there.
const READY = {
  ya_tidak: [['ya', 'Ya', 'Yes'], ['tidak', 'Tidak', 'No']],
  skala_puas: [['1', 'Sangat tidak puas', 'Very dissatisfied'], ['2', 'Tidak puas', 'Dissatisfied'],
    ['3', 'Cukup', 'Neutral'], ['4', 'Puas', 'Satisfied'], ['5', 'Sangat puas', 'Very satisfied']],
};

function readyList(stem) {
  const same = Object.keys(D.choices).find((n) => Array.isArray(D.choices[n])
    && JSON.stringify(D.choices[n].map((c) => c.name)) === JSON.stringify(READY[stem].map((c) => c[0])));
  if (same) return same;
  const name = D.choices[stem] ? uniqueList(stem) : stem;
  D.choices[name] = READY[stem].map((c) => ({ name: c[0], label: { id: c[1], en: c[2] } }));
  return name;
}

// "Wilayah (kecamatan dan desa)": the two region lists, the two questions and the filter between them.
function addRegionPair(path) {
  const kec = regionList('kecamatan 64.02', 'kecamatan'), desa = regionList('desa 64.02', 'desa');
  const k = { type: 'select_one ' + kec, name: freeName('kecamatan'), label: { id: 'Kecamatan', en: 'District' }, hint: {}, required: true };
  const d = { type: 'select_one ' + desa, name: freeName('desa'), label: { id: 'Desa/kelurahan', en: 'Village' }, hint: {}, required: true,
    choice_filter: 'parent = ${' + k.name + '}' };
  fieldsAt(path).push(k);
  fieldsAt(path).push(d);
  render();
}

function freeName(stem) { return names().indexOf(stem) < 0 ? stem : uniqueName(stem); }

function regionList(source, stem) {
  const found = Object.keys(D.choices).find((n) => D.choices[n].wilayah === source);
  if (found) return found;
  const name = D.choices[stem] ? uniqueList(stem) : stem;
  D.choices[name] = { wilayah: source };
  return name;
}

function uniqueList(stem) {
  let n = 1;
  while (D.choices[stem + '_' + n]) n++;
  return stem + '_' + n;
}

function renameList(old, name) {
  if (!name || name === old || D.choices[name]) return false;
  const out = {};
  Object.keys(D.choices).forEach((k) => { out[k === old ? name : k] = D.choices[k]; });
  D.choices = out;
  walk(D.fields, (f) => { if (SELECTS.indexOf(typeOf(f)) >= 0 && listOf(f) === old) setType(f, typeOf(f), name); });
  return true;
}

function listCard(name) {
  const list = D.choices[name];
  const card = make('div', { class: 'list-card', 'data-list': name });
  const nameInput = input(t('list_name'), 'l-name', name, () => {});
  nameInput.querySelector('input').addEventListener('change', (ev) => {
    if (renameList(name, ev.target.value.trim())) render(); else ev.target.value = name;
  });
  card.appendChild(make('div', { class: 'head' }, [nameInput,
    button(t('del'), 'l-del danger', () => { delete D.choices[name]; render(); })]));
  if (list.wilayah !== undefined) {
    regionBoxes(card, list);
    return card;
  }
  const rows = make('ol', { class: 'choices' });
  list.forEach((c, i) => rows.appendChild(choiceRow(list, c, i)));
  card.appendChild(rows);
  card.appendChild(button(t('add_choice'), 'add-choice', () => { list.push({ name: String(list.length + 1), label: { id: '' } }); render(); }));
  return card;
}

// A region list: which level, under which region (alphabetical, the code beside), or the source typed.
function regionBoxes(card, list) {
  const words = String(list.wilayah || '').trim().split(/\s+/), level = words[0] || 'kecamatan', within = words[1] || '';
  const known = (C.regions || []).filter((r) => level !== 'kecamatan' || r[0] === 'kabupaten');
  const options = known.map((r) => [r[1], r[2]]);
  if (within && !known.some((r) => r[1] === within)) options.push([within, within]);
  const row = make('div', { class: 'region-row' }, [
    choiceBox(t('region_level'), 'l-level', level, [['kecamatan', t('kecamatan')], ['desa', t('desa')]],
      (v) => { list.wilayah = v + ' ' + within; render(); }),
    choiceBox(t('region_in'), 'l-within', within, options, (v) => { list.wilayah = level + ' ' + v; render(); }),
    input(t('region'), 'l-region', list.wilayah, (v) => { list.wilayah = v; })]);
  card.appendChild(row);
}

function choiceRow(list, c, i) {
  c.label = text(c.label);
  const extra = Object.keys(c).filter((k) => k !== 'name' && k !== 'label');
  return make('li', { class: 'choice' }, [
    input(t('value'), 'c-name', c.name, (v) => { c.name = v; }),
    input(t('label_id'), 'c-label-id', c.label.id, (v) => { c.label.id = v; }),
    input(t('label_en'), 'c-label-en', c.label.en, (v) => { c.label.en = v; }),
    input(t('columns'), 'c-columns', extra.map((k) => k + '=' + c[k]).join(', '), (v) => {
      extra.forEach((k) => delete c[k]);
      extra.length = 0;
      v.split(',').forEach((pair) => {
        const at = pair.indexOf('=');
        const k = pair.slice(0, at).trim();
        if (at > 0 && k && k !== 'name' && k !== 'label') { c[k] = pair.slice(at + 1).trim(); extra.push(k); }
      });
    }),
    button(t('del'), 'c-del danger', () => { list.splice(i, 1); render(); })]);
}

// --- problems from the server, at their place ------------------------------------------------------------------
function markProblems() {
  const ul = byId('problems');
  ul.textContent = '';
  byId('structure').querySelectorAll('.perr').forEach((e) => { e.textContent = ''; });
  byId('structure').querySelectorAll('li.field.bad').forEach((e) => e.classList.remove('bad'));
  serverProblems.forEach((p) => {
    const message = (EN ? p.message_en : p.message) + (p.hint || p.hint_en ? ' ' + (EN ? p.hint_en : p.hint) : '');
    const card = p.field ? byId('structure').querySelector('li.field[data-name="' + CSS.escape(p.field) + '"]') : null;
    ul.appendChild(make('li', { class: p.severity, 'data-code': p.code }, problemPlace(p, card, message)));
    if (!card) return;
    if (!card) return;
    card.classList.add(p.severity === 'error' ? 'bad' : 'warned');
    if (p.severity === 'error') card.querySelector(':scope > details.more').open = true;
    card.querySelector(':scope > .perr').appendChild(make('li', { class: p.severity, 'data-code': p.code, text: message }));
  });
}

// In the structure view a problem points at its question's card (a button that goes there); a line number
// means something only in the YAML view.
function problemPlace(p, card, message) {
  if (view === 'yaml' || !p.field) return [doc.createTextNode((view === 'yaml' ? t('line') + ' ' + p.line + ': ' : '') + message)];
  if (!card) return [doc.createTextNode(t('at_question', { name: p.field }) + ': ' + message)];
  const go = button(t('at_question', { name: p.field }), 'to-card', () => {
    card.scrollIntoView({ block: 'center' });
    const first = card.querySelector('[aria-invalid=true]') || card.querySelector('input, select');
    if (first) first.focus();
  });
  return [go, doc.createTextNode(': ' + message)];
}

// --- saving: the server validates, then both views come back ------------------------------------------------------
function say(message, bad) {
  const box = byId('say');
  box.textContent = '';
  box.appendChild(make('p', { class: bad ? 'error' : 'ok', text: message }));
}

let view = 'structure';

// --- unsaved edits: counted, shown at all times, saved before leaving for the publish page --------------------
let edits = 0, savedEdits = 0, savedAt = C.saved_at || '';
const dirty = () => edits !== savedEdits;

function changed() {
  edits++;
  showState();
}

function showState() {
  const box = byId('save-state');
  const last = C.versions && C.versions.length ? C.versions[C.versions.length - 1] : '';
  box.textContent = dirty() ? t('unsaved') : savedAt ? t('saved_at', { when: savedAt }) : t('published_only', { v: last });
  box.classList.toggle('unsaved', dirty());
  box.hidden = false;
  doc.documentElement.setAttribute('data-dirty', String(dirty()));
}

// Every typed character, choice and button of the two views is an edit (saves answer by redrawing).
function watchEdits() {
  ['input', 'change'].forEach((kind) => {
    byId('structure').addEventListener(kind, changed);
    byId('yaml').addEventListener(kind, changed);
  });
  // A delete counts once confirmed (remove()): the question it asks can be answered no.
  byId('structure').addEventListener('click', (ev) => { const b = ev.target.closest('button'); if (b && !b.classList.contains('f-del')) changed(); });
  window.addEventListener('beforeunload', (ev) => {
    if (!dirty()) return;
    ev.preventDefault();
    ev.returnValue = ''; // older browsers ask only when this is set
  });
  doc.querySelectorAll('a.saves-first').forEach((a) => a.addEventListener('click', saveThenFollow));
}

// The publish page and the downloads read the stored draft: what was typed is saved first, or the way on
// stops with the reason; nothing typed is ever left out silently.
async function saveThenFollow(ev) {
  if (!dirty()) return;
  ev.preventDefault();
  const href = ev.currentTarget.href;
  if (await save(view)) location.href = href;
  else if (byId('say').querySelector('.error')) say(byId('say').textContent + ' ' + t('save_first'), true);
}

async function save(from) {
  const body = from === 'yaml' ? { yaml: byId('yaml').value } : { document: clean(D) };
  const sending = edits;
  say(t('saving'));
  let answer, response;
  try {
    response = await fetch(C.save, {
      method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrftoken': csrf() },
    });
    answer = await response.json();
  } catch (e) {
    say(t('offline'), true);
    return false;
  }
  if (!answer.problems) { say((EN ? answer.detail : answer.detail_id) || String(response.status), true); return false; }
  serverProblems = answer.problems;
  if (answer.document) D = normalize(answer.document);
  if (typeof answer.yaml === 'string' && (answer.saved || from !== 'yaml')) byId('yaml').value = answer.yaml;
  render();
  if (answer.saved) {
    savedEdits = sending; // edits typed while the save travelled stay unsaved
    savedAt = answer.saved_at || savedAt;
    showState();
    say(t('saved'));
    reloadPreview();
  } else {
    say(t('not_saved', { n: answer.problems.filter((p) => p.severity === 'error').length }), true);
  }
  doc.documentElement.setAttribute('data-saved', String(answer.saved));
  return answer.saved;
}

function reloadPreview() {
  const frame = byId('preview');
  frame.hidden = false;
  ['no-preview', 'read-only-preview'].forEach((id) => { const e = byId(id); if (e) e.hidden = true; });
  frame.src = C.preview + (EN ? '?lang=en&' : '?') + 't=' + Date.now();
}

function show(which) {
  view = which;
  byId('structure').hidden = which !== 'structure';
  byId('yaml-view').hidden = which !== 'yaml';
  byId('tab-structure').setAttribute('aria-selected', String(which === 'structure'));
  byId('tab-yaml').setAttribute('aria-selected', String(which === 'yaml'));
  markProblems(); // line numbers in the YAML view, the question cards in the structure view
}

async function switchTo(which) {
  if (which === view) return;
  const saved = await save(view);
  // From an unsaved YAML there is no structure to show: the text stays, with its problems.
  if (saved || view === 'structure') show(which);
}

// The preview (static/js/form.js) says when a test submission was kept: the count follows at once.
function onPreviewMessage(ev) {
  const frame = byId('preview');
  if (ev.origin !== location.origin || !frame || ev.source !== frame.contentWindow) return;
  const data = ev.data || {}, answer = data.answer || {};
  if (data.pantau !== 'test-sent' || typeof answer.test_count !== 'number') return;
  byId('test-count').textContent = String(answer.test_count);
  const list = doc.querySelector('aside.preview ul.tests');
  if (!list || answer.outcome !== 'new') return;
  const when = new Date(answer.received_at).toLocaleString('sv-SE', { timeZone: 'Asia/Makassar' }).slice(0, 16);
  list.insertBefore(make('li', {}, [make('code', { text: String(answer.instance_id).slice(0, 8) }), doc.createTextNode(' ' + when + ' WITA')]), list.firstChild);
  while (list.children.length > 20) list.lastChild.remove();
}

function start() {
  window.addEventListener('message', onPreviewMessage);
  byId('yaml-view').addEventListener('submit', (e) => { e.preventDefault(); save('yaml'); });
  byId('save').hidden = false;
  byId('save').addEventListener('click', () => save(view));
  byId('save-yaml').hidden = true;
  doc.querySelector('.tabs').hidden = false;
  byId('tab-structure').addEventListener('click', () => switchTo('structure'));
  byId('tab-yaml').addEventListener('click', () => switchTo('yaml'));
  render();
  show('structure');
  watchEdits();
  showState();
  doc.documentElement.setAttribute('data-editor', 'siap');
}

start();
