// Repeats on the fill page: add and remove instances, and follow repeat_count. form.js loads this
// module only for forms with a repeat (fill_runtime.lazy_modules): the others' first load stays light.
import { evaluate, toString } from './expr-eval.js';
import { make } from './dom.js';

const form = document.getElementById('fill');
const nameOf = (key) => key.slice(key.lastIndexOf('.') + 1);

export function attach(R, F) {
  function addInstance(rep) {
    const key = rep.id.slice(2), name = nameOf(key), tpl = rep.querySelector(':scope > template');
    const n = rep.querySelectorAll(':scope > .ri').length, max = (R.rules[name] || {}).max_count;
    if (max !== undefined && n >= max) return;
    const box = make('div');
    box.innerHTML = tpl.innerHTML.split('{' + name + '}').join(String(n));
    const inst = box.firstElementChild;
    rep.insertBefore(inst, tpl);
    inst.querySelectorAll('.q.sig').forEach(F.signaturePad);
    numberInstances(rep);
  }

  function removeInstance(inst) {
    const rep = inst.parentNode;
    inst.remove();
    numberInstances(rep);
  }

  // After a removal the later instances move up: their names, ids and labels follow, so the post
  // without JavaScript and the error paths from the server still point at the right inputs.
  function numberInstances(rep) {
    const key = rep.id.slice(2), name = nameOf(key), rules = R.rules[name] || {};
    const list = rep.querySelectorAll(':scope > .ri');
    const pattern = new RegExp('(^|[^\\w])' + key.replace(/[.[\]]/g, '\\$&') + '\\[\\d+\\]', 'g');
    list.forEach((inst, i) => {
      const now = '$1' + key + '[' + i + ']';
      [inst].concat(Array.from(inst.querySelectorAll('[name],[id],[for],[aria-describedby],button[value]'))).forEach((e) => {
        ['name', 'id', 'for', 'aria-describedby', 'value'].forEach((a) => {
          const v = e.getAttribute(a);
          if (v && v.indexOf(key + '[') >= 0 && (a !== 'value' || e.tagName === 'BUTTON')) e.setAttribute(a, v.replace(pattern, now));
        });
      });
      inst.querySelectorAll('template').forEach((t) => { t.innerHTML = t.innerHTML.replace(pattern, now); });
      const number = inst.querySelector('.rn span');
      if (number) number.textContent = String(i + 1);
      const rm = inst.querySelector(':scope > .rm');
      if (rm) rm.hidden = rules.min_count !== undefined && list.length <= rules.min_count;
    });
    const add = rep.querySelector(':scope > .add');
    if (add) add.disabled = rules.max_count !== undefined && list.length >= rules.max_count;
    Object.keys(F.offeredCache).forEach((k) => { if (k.indexOf(key + '[') === 0) delete F.offeredCache[k]; });
    F.refresh();
  }

  // Each refresh, before the choice filters: as many instances as repeat_count says.
  F.pre.push((values) => {
    Object.keys(R.rules).forEach((name) => {
      const rule = R.rules[name].repeat_count;
      if (!rule) return;
      F.instances(values, R.fields[name][2]).forEach((inst) => {
        const rep = document.getElementById('w-' + F.keyOf(inst[0], name)), s = toString(evaluate(rule, F.ctx(values, inst[0], '')));
        const n = Math.max(0, Math.min(200, Math.trunc(s === '' ? NaN : +s)));
        // no count yet (the field is being typed): keep what is there
        if (!rep || n !== n) return;
        let have = rep.querySelectorAll(':scope > .ri');
        while (have.length < n) { addInstance(rep); have = rep.querySelectorAll(':scope > .ri'); }
        for (let i = have.length - 1; i >= n; i--) removeInstance(have[i]);
      });
    });
  });

  // The add and remove buttons post the form without JavaScript; here they change the page.
  form.addEventListener('click', (e) => {
    const b = e.target.closest('button'), inst = b && b.closest('.ri');
    if (!b) return;
    if (b.classList.contains('rm') && inst) { e.preventDefault(); removeInstance(inst); F.run(); }
    else if (b.classList.contains('add')) { e.preventDefault(); addInstance(b.closest('.rp')); F.run(); }
  });
}
