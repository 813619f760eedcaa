// Exact decimal values of number texts: what a JSON number's digits say, against what a reader that holds
// numbers as IEEE doubles (JavaScript, most JSON libraries) makes of them.

const NUMBER_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * The decimal value of a number's text in one spelling, digits without leading or trailing zeros and a power of
 * ten ("150.50", "150.5" and "1.505e2" all give "1505e-1"; any zero gives "0"), or undefined when the text is not
 * a JSON number (a JSON number, or a plain decimal string such as an amount).
 */
export function decimalKey(text: string): string | undefined {
  const match = NUMBER_TEXT.exec(text);
  if (!match) return undefined;
  const [, sign = '', integer = '', fraction = '', exponent = '0'] = match;
  const significant = (integer + fraction).replace(/^0+/, '');
  if (significant === '') return '0';
  const digits = significant.replace(/0+$/, '');
  // BigInt: an exponent of any length stays exact.
  const power = BigInt(exponent) - BigInt(fraction.length) + BigInt(significant.length - digits.length);
  return `${sign}${digits}e${power}`;
}

/** Both texts are numbers of the same decimal value: "150.5" and "150.50" are. */
export function sameDecimal(a: string, b: string): boolean {
  const key = decimalKey(a);
  return key !== undefined && key === decimalKey(b);
}

/**
 * A reader holding numbers as doubles reads the text as exactly its value: the double nearest to it prints (its
 * shortest round-trip text) with the same decimal value. False for 9007199254740993 (read as ...992),
 * 1.0000000000000001 (read as 1), 1e400 (Infinity) and 1e-400 (0).
 */
export function holdsAsDouble(text: string): boolean {
  const key = decimalKey(text);
  if (key === undefined) return false;
  const value = Number(text);
  return Number.isFinite(value) && decimalKey(String(value)) === key;
}
