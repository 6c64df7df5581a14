// Values the runtime writes into a question's input (docs/forms.md, `calculation` and `trigger`):
// - a typed question with a calculation shows the value form.js computed, as a calculate would hold it;
// - ODK's trigger: when the answer it names changes, the question is set to its calculation, or
//   emptied when it has none, and may be changed afterwards; a background-geopoint takes the phone's
//   location instead. The server keeps what the page sent (answers_plan.py: a triggered calculation
//   is not recomputed, since now() then is not now() at sending).
// form.js loads this module only for forms with either (rules.set).
import { evaluate } from './expr-eval.js';

const form = document.getElementById('fill');

// A value into its widget, as the enumerator would have entered it.
export function put(key, v) {
  form.querySelectorAll('[name="' + key + '"]').forEach((e) => {
    const text = v === null || v === undefined ? '' : String(v);
    if (e.type === 'radio' || e.type === 'checkbox') e.checked = text !== '' && [].concat(v).map(String).indexOf(e.value) >= 0;
    else if (e.type !== 'file') e.value = e.type === 'datetime-local' ? text.slice(0, 16) : e.type === 'date' ? text.slice(0, 10) : text;
  });
}

function locate(key, done) {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition((p) => {
    const c = p.coords;
    put(key, [c.latitude, c.longitude, c.altitude || 0, c.accuracy].join(' '));
    done();
  }, () => {}, { enableHighAccuracy: true, timeout: 30000 });
}

export function attach(R, F) {
  const last = {}, geo = R.geo || [];
  F.hooks.push((values) => {
    let changed = false;
    Object.keys(R.rules).forEach((name) => {
      const rules = R.rules[name], f = R.fields[name];
      if (!f || !rules.calculation && !rules.trigger) return;
      F.instances(values, f[2]).forEach((inst) => {
        const pos = inst[0], key = F.keyOf(pos, name), c = F.ctx(values, pos, '');
        if (!rules.trigger) { if (f[0] !== 'calculate' && f[0] !== 'hidden') put(key, inst[1][inst[1].length - 1][name]); return; }
        const seen = JSON.stringify(evaluate(rules.trigger, c));
        if (key in last && last[key] !== seen) {
          if (geo.indexOf(name) >= 0) locate(key, F.refresh);
          else { put(key, rules.calculation ? F.stored(evaluate(rules.calculation, c)) : null); changed = true; }
        }
        last[key] = seen;
      });
    });
    if (changed) F.refresh();
  });
}
