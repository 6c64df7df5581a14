// ODK's rank on the fill page (docs/forms.md, `rank`): the enumerator puts every choice in order
// with Naik/Turun (up/down) buttons, by touch or keyboard; no dragging. The page without JavaScript
// has one drop-down per place (fill_fields.html); this module replaces them with the list and one
// hidden input holding the names in order, space-separated ("" while not yet ranked: as in ODK
// Collect, a rank is unanswered until the enumerator sets or accepts an order). form.js loads it
// only for forms with a rank question (fill_runtime.lazy_modules).
import { make } from './dom.js';

const doc = document, form = doc.getElementById('fill');
const EN = doc.documentElement.lang === 'en';
const T = EN
  ? { up: 'Up', down: 'Down', use: 'Use this order', clear: 'Clear the order', none: 'Not ranked yet: move the choices with Up/Down, or use this order.', at: '{c}: place {n} of {m}' }
  : { up: 'Naik', down: 'Turun', use: 'Pakai urutan ini', clear: 'Hapus urutan', none: 'Belum diurutkan: pindahkan pilihan dengan Naik/Turun, atau pakai urutan ini.', at: '{c}: urutan ke-{n} dari {m}' };
const say = (t, p) => t.replace(/\{(\w)\}/g, (m, k) => p[k]);

function button(text, cls, label) {
  const b = make('button', { type: 'button', class: 'alt ' + cls }, text);
  if (label) b.setAttribute('aria-label', label);
  b.style.minWidth = '44px';
  return b;
}

// One rank question: fs is its fieldset (id f-<key>), the no-JavaScript drop-downs inside.
function upgrade(fs, F) {
  const key = fs.id.slice(2), ol = fs.querySelector('ol'), first = ol.querySelector('select');
  let choices = first ? Array.from(first.options).filter((o) => o.value).map((o) => [o.value, o.text]) : [];
  const picked = Array.from(ol.querySelectorAll('select')).map((s) => s.value).filter((v) => v);
  const hidden = make('input', { type: 'hidden', name: key });
  const status = make('p', { class: 'h', 'aria-live': 'polite' }), use = button(T.use, 'use'), clear = button(T.clear, 'clear');
  const permutation = (names) => names.length === choices.length && choices.every((c) => names.indexOf(c[0]) >= 0);
  let order = permutation(picked) ? picked : null; // null: not ranked yet

  function shown() { return order || choices.map((c) => c[0]); }
  function labelOf(name) { const c = choices.filter((x) => x[0] === name)[0]; return c ? c[1] : name; }

  function draw(focus) {
    const names = shown();
    hidden.value = order ? order.join(' ') : '';
    while (ol.firstChild) ol.removeChild(ol.firstChild);
    names.forEach((name, i) => {
      const li = make('li', { 'data-v': name }), text = make('span', {}, labelOf(name));
      li.style.display = 'flex';
      li.style.alignItems = 'center';
      li.style.gap = '.4rem';
      li.style.minHeight = '44px';
      text.style.flex = '1';
      const up = button(T.up, 'up', T.up + ': ' + labelOf(name)), down = button(T.down, 'down', T.down + ': ' + labelOf(name));
      up.disabled = i === 0;
      down.disabled = i === names.length - 1;
      li.appendChild(text);
      li.appendChild(up);
      li.appendChild(down);
      ol.appendChild(li);
    });
    status.textContent = order ? (focus ? say(T.at, { c: labelOf(focus[0]), n: order.indexOf(focus[0]) + 1, m: order.length }) : '') : T.none;
    use.hidden = !!order || !names.length;
    clear.hidden = !order;
    if (focus) {
      const li = ol.querySelector('li[data-v="' + focus[0] + '"]'), b = li && li.querySelector('.' + focus[1]);
      // at the top or bottom the pressed button is disabled: keep the focus in the row
      if (b) (b.disabled ? li.querySelector(focus[1] === 'up' ? '.down' : '.up') : b).focus();
    }
  }

  function move(name, by, cls) {
    const names = shown().slice(), i = names.indexOf(name), j = i + by;
    if (i < 0 || j < 0 || j >= names.length) return;
    names.splice(j, 0, names.splice(i, 1)[0]);
    order = names;
    draw([name, cls]);
    F.refresh();
  }

  ol.addEventListener('click', (e) => {
    const b = e.target.closest('button'), li = b && b.closest('li');
    if (!li) return;
    e.preventDefault();
    move(li.getAttribute('data-v'), b.classList.contains('up') ? -1 : 1, b.classList.contains('up') ? 'up' : 'down');
  });
  use.addEventListener('click', () => { order = shown(); draw(null); F.refresh(); });
  clear.addEventListener('click', () => { order = null; draw(null); use.focus(); F.refresh(); });
  fs.insertBefore(hidden, ol);
  fs.insertBefore(status, ol.nextSibling);
  fs.insertBefore(use, status.nextSibling);
  fs.insertBefore(clear, use.nextSibling);

  // a choice_filter offers another set (form.js filterChoices): an order of other choices is void
  fs.fill = (offered) => {
    choices = offered.map((c) => [c[0], c[1]]);
    const was = order;
    if (order && !permutation(order)) order = null;
    draw(null);
    return was !== order;
  };
  // a draft restored (offline.js writes the hidden input) or a value set by the runtime
  fs.sync = () => {
    if (hidden.value === (order ? order.join(' ') : '')) return;
    const names = hidden.value.split(' ').filter((v) => v);
    order = permutation(names) ? names : null;
    draw(null);
  };
  draw(null);
}

export function attach(R, F) {
  F.typed.rank = (s) => s.split(/\s+/);
  const scan = () => form.querySelectorAll('fieldset.rk').forEach((fs) => {
    if (!fs.sync && !fs.closest('template')) upgrade(fs, F);
    else if (fs.sync) fs.sync();
  });
  scan();
  // repeat instances added later carry their own drop-downs
  F.hooks.push(scan);
}
