// The NIK and No. KK checks the fill page makes at the field: the part of server/domain/nik.py that
// needs no region list (16 digits, the birth date and sex a NIK encodes, the Kutai Kartanegara prefix,
// the sex and birth date answered beside it). tests/nik_vectors.json holds both to the same cases.

// What an enumerator types, as digits: spaces, dots and dashes dropped (a value with other characters stays as typed).
export const digitsOf = (s) => { const t = s.replace(/[\s.-]/g, ''); return /^\d+$/.test(t) ? t : s; };

// The birth date and sex that digits 7-12 encode (a woman's day + 40), or null for no such date. The
// birth date answered settles the century; without it, a year after the registration year's is 19xx.
export function nikParts(digits, birth, registered) {
  let day = +digits.slice(6, 8);
  const month = +digits.slice(8, 10), yy = +digits.slice(10, 12), female = day > 40;
  if (female) day -= 40;
  const reg = /^\d{4}/.test(registered || '') ? +registered.slice(0, 4) : new Date().getFullYear();
  const year = birth && +birth.slice(2, 4) === yy ? +birth.slice(0, 4) : yy <= reg % 100 ? 2000 + yy : 1900 + yy;
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || d.getUTCFullYear() !== year) return null;
  return { female: female, day: day, month: month, year: year, iso: d.toISOString().slice(0, 10) };
}

// A NIK ('nik') or No. KK ('no_kk') against the answers beside it, as catalogue codes with their
// parameters: { error: [code, params] or null, warnings: [[code, params], ...], parts: nikParts or null }.
export function checkId(type, value, birth, sex, registered) {
  const v = digitsOf(String(value)), out = { error: null, warnings: [], parts: null };
  if (!/^\d{16}$/.test(v)) { out.error = [type === 'nik' ? 'nik.length' : 'kk.length', {}]; return out; }
  if (type !== 'nik') return out;
  const nik = out.parts = nikParts(v, birth, registered), entered = String(sex || '').slice(0, 1).toUpperCase();
  if (!nik) { out.error = ['nik.date', { ddmmyy: v.slice(6, 12) }]; return out; }
  const nikSex = nik.female ? 'P' : 'L';
  if (v.slice(0, 4) !== '6402') out.warnings.push(['nik.outside_kukar', { prefix: v.slice(0, 2) + '.' + v.slice(2, 4) + '.' + v.slice(4, 6) }]);
  if ((entered === 'L' || entered === 'P') && entered !== nikSex) out.warnings.push(['nik.sex_mismatch', { nik_sex: nikSex, entered: entered }]);
  if (birth && birth !== nik.iso) out.warnings.push(['nik.dob_mismatch', { nik_dob: nik.iso, entered: birth }]);
  return out;
}
