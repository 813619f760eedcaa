import cc from 'currency-codes';

// ISO 4217 codes that are not money one can post: precious metals, bond units, test and "no currency".
const NOT_POSTABLE = new Set(['XAU', 'XAG', 'XPD', 'XPT', 'XBA', 'XBB', 'XBC', 'XBD', 'XTS', 'XXX']);
const MAX_INTEGER_DIGITS = 15;
// A double carries any decimal of up to 15 significant digits exactly (DBL_DIG): a JSON number is taken only
// when every amount of its size with the currency's digits fits in that, so its digits are the client's.
const MAX_NUMBER_DIGITS = 15;
const DECIMAL = /^(0|[1-9]\d*)(?:\.(\d+))?$/;

/** Number of minor-unit digits of an ISO 4217 currency, or undefined when it is not a postable currency. */
export function minorUnitDigits(currency: string): number | undefined {
  // The lookup ignores case; an ISO code does not.
  if (!/^[A-Z]{3}$/.test(currency) || NOT_POSTABLE.has(currency)) return undefined;
  return cc.code(currency)?.digits;
}

export function isCurrency(currency: string): boolean {
  return minorUnitDigits(currency) !== undefined;
}

export type AmountResult = { ok: true; amount: string } | { ok: false; reason: string };

/**
 * Parses an amount given as a decimal string (or a JSON number that prints without an exponent)
 * and returns it in canonical form with exactly the currency's minor-unit digits: "150.5" INR → "150.50".
 */
export function parseAmount(input: unknown, currency: string): AmountResult {
  const digits = minorUnitDigits(currency);
  if (digits === undefined) return { ok: false, reason: 'currency is not a known ISO 4217 code' };
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, reason: 'must be a finite number' };
    text = String(input);
    if (/e/i.test(text)) return { ok: false, reason: 'send this amount as a decimal string, e.g. "0.01"' };
    if (Math.abs(input) >= 10 ** (MAX_NUMBER_DIGITS - digits)) {
      return {
        ok: false,
        reason: `as a JSON number must be below 10^${MAX_NUMBER_DIGITS - digits} (float precision); send it as a decimal string`,
      };
    }
  } else if (typeof input === 'string') {
    text = input;
  } else {
    return { ok: false, reason: 'must be a decimal string or a number' };
  }
  const match = DECIMAL.exec(text);
  if (!match) return { ok: false, reason: 'must be a plain decimal such as "150.50"' };
  const integer = match[1] ?? '';
  const fraction = match[2] ?? '';
  if (integer.length > MAX_INTEGER_DIGITS) {
    return { ok: false, reason: `must be below 10^${MAX_INTEGER_DIGITS}` };
  }
  if (fraction.length > digits) {
    return { ok: false, reason: `${currency} allows at most ${digits} decimal places` };
  }
  if (/^0*$/.test(integer + fraction)) return { ok: false, reason: 'must be greater than zero' };
  return { ok: true, amount: digits === 0 ? integer : `${integer}.${fraction.padEnd(digits, '0')}` };
}

/** Canonical decimal amount → integer count of minor units ("150.50" INR → 15050n). */
export function toMinorUnits(amount: string, currency: string): bigint {
  const digits = minorUnitDigits(currency);
  if (digits === undefined) throw new RangeError(`unknown currency ${currency}`);
  const [integer = '0', fraction = ''] = amount.split('.');
  return BigInt(integer + fraction.padEnd(digits, '0'));
}

/** Integer minor units → canonical decimal amount (15050n INR → "150.50"). */
export function fromMinorUnits(minor: bigint, currency: string): string {
  const digits = minorUnitDigits(currency);
  if (digits === undefined) throw new RangeError(`unknown currency ${currency}`);
  if (minor < 0n) throw new RangeError('negative amount');
  if (digits === 0) return minor.toString();
  const text = minor.toString().padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
