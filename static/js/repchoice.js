// select_one ${x} over a repeat: the choices are the answers given to x in the repeat so far, as
// server/domain/answers_plan.repeat_items offers them (blanks skipped, the first of equal answers,
// the instances that share the select's own repeats), each through the choice_filter with its own
// instance's fields. form.js loads this module only for forms that have such a select.
import { evaluate, toBoolean } from './expr-eval.js';

export function attach(R, F) {
  const within = (scope, outer) => scope.length <= outer.length && scope.every((r, i) => r === outer[i]);
  F.pre.push((values) => {
    Object.keys(R.rc).forEach((name) => {
      const source = R.rc[name], from = R.scope[source] || [], rule = (R.rules[name] || {}).choice_filter;
      const scope = {};
      Object.keys(R.scope).forEach((n) => { if (!within(R.scope[n], from)) scope[n] = R.scope[n]; });
      F.instances(values, R.fields[name][2]).forEach((inst) => {
        const pos = inst[0], key = F.keyOf(pos, name), control = document.getElementById('f-' + key);
        if (!control) return;
        let shared = 0;
        while (shared < Math.min(pos.length, from.length) && pos[shared][0] === from[shared]) shared++;
        const seen = {}, offered = [];
        F.instances(values, from).forEach((item) => {
          const at = item[0], chain = item[1], answer = chain[chain.length - 1][source];
          if (at.slice(0, shared).some((p, i) => p[1] !== pos[i][1])) return;
          if (answer === undefined || answer === null || answer === '' || typeof answer === 'object') return;
          const text = String(answer);
          if (seen[text]) return;
          seen[text] = 1;
          if (rule) {
            const overlay = Object.assign.apply(null, [{}, values].concat(chain.slice(1)));
            if (!toBoolean(evaluate(rule, Object.assign(F.ctx(overlay, pos, ''), { scope: scope })))) return;
          }
          offered.push([text, text]);
        });
        const sig = offered.map((c) => c[0]).join('\n');
        if (F.offeredCache[key] === sig) return;
        F.offeredCache[key] = sig;
        if (control.tagName === 'SELECT') F.fillSelect(control, offered); else F.fillBoxes(control, key, offered);
      });
    });
  });
}
