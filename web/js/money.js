// money.js — amounts are integers in minor units of the installation's currency (or millionths
// of a minor unit, "microcents"); shown and read as decimal text by string arithmetic, never
// through floating point.

// ISO 4217 minor-unit exponents that are not 2 (the same list as billing/currency.c). A customer
// cannot read GET /settings, so the UI knows them itself; an admin page uses the settings'
// currency_exponent when it has one.
const EXPONENTS = {
  BHD: 3, BIF: 0, CLF: 4, CLP: 0, DJF: 0, GNF: 0, IQD: 3, ISK: 0, JOD: 3, JPY: 0, KMF: 0,
  KRW: 0, KWD: 3, LYD: 3, OMR: 3, PYG: 0, RWF: 0, TND: 3, UGX: 0, UYI: 0, UYW: 4, VND: 0,
  VUV: 0, XAF: 0, XOF: 0, XPF: 0,
};

export function exponentOf(currency) {
  const c = String(currency || '').toUpperCase();
  return Object.prototype.hasOwnProperty.call(EXPONENTS, c) ? EXPONENTS[c] : 2;
}

const group = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** 123456 minor units, exponent 2 -> "1,234.56"; keeps the sign; '—' when not an integer. */
export function decimal(minor, exp = 2, { grouping = true } = {}) {
  if (typeof minor !== 'number' && typeof minor !== 'bigint') return '—';
  if (typeof minor === 'number' && !Number.isSafeInteger(minor)) return '—';
  const neg = minor < 0;
  let s = String(neg ? -BigInt(minor) : BigInt(minor));
  if (exp > 0) {
    s = s.padStart(exp + 1, '0');
    const int = s.slice(0, s.length - exp);
    s = `${grouping ? group(int) : int}.${s.slice(s.length - exp)}`;
  } else if (grouping) s = group(s);
  return (neg ? '−' : '') + s;
}

/** "EUR 1,234.56" (or "−EUR 3.00" for a negative amount). */
export function money(minor, currency, exp = exponentOf(currency)) {
  const d = decimal(minor, exp);
  if (d === '—') return d;
  const cur = currency ? `${currency} ` : '';
  return d.startsWith('−') ? `−${cur}${d.slice(1)}` : `${cur}${d}`;
}

/**
 * A rate in millionths of a minor unit: 13698630 microcents, exponent 2 -> "0.13698630"
 * (trailing zeros past the minor unit trimmed).
 */
export function microDecimal(micro, exp = 2) {
  if (typeof micro !== 'number' || !Number.isSafeInteger(micro)) return '—';
  let s = decimal(micro, exp + 6, { grouping: true });
  if (s.includes('.')) {
    const [int, frac] = s.split('.');
    const keep = frac.slice(0, exp) + frac.slice(exp).replace(/0+$/, '');
    s = keep ? `${int}.${keep}` : int;
  }
  return s;
}

export function microMoney(micro, currency, exp = exponentOf(currency)) {
  const d = microDecimal(micro, exp);
  return d === '—' ? d : `${currency ? `${currency} ` : ''}${d}`;
}

/**
 * Decimal text -> integer units of 10^-scale ("12.5", 2 -> 1250). Returns null for the empty
 * string and the text itself when it is not a plain decimal or has more places than scale (so
 * the API refuses it and names the field).
 */
export function parseDecimal(text, scale) {
  const raw = String(text ?? '').trim().replace(/[,\s]/g, '');
  if (raw === '') return null;
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(raw);
  if (!m || (m[2] === '' && !m[3])) return raw;
  const frac = m[3] || '';
  if (frac.length > scale) return raw;
  const n = BigInt((m[2] || '0') + frac.padEnd(scale, '0'));
  const v = m[1] ? -n : n;
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) return raw;
  return Number(v);
}

/**
 * Integer units of 10^-scale -> decimal text without grouping, for an input's value; zeros
 * past `keep` places are trimmed (microcents: keep the currency's exponent).
 */
export function toInput(units, scale, keep = scale) {
  if (typeof units !== 'number' || !Number.isSafeInteger(units)) return '';
  let s = decimal(units, scale, { grouping: false }).replace('−', '-');
  if (keep < scale && s.includes('.')) {
    const [int, frac] = s.split('.');
    const f = frac.slice(0, keep) + frac.slice(keep).replace(/0+$/, '');
    s = f ? `${int}.${f}` : int;
  }
  return s;
}
