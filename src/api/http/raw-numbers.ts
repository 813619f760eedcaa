import { holdsAsDouble } from '../../domain/decimal';

// Every number literal of up to 15 significant digits and no exponent is one a double holds exactly (DBL_DIG):
// only a literal with 16 or more digits (one point among them) or an exponent can be rounded by the parser. The
// scan runs only when the body has one of those after a `:`, `,` or `[` (inside a string it costs a scan, no more).
const MAY_BE_INEXACT = /[:,[]\s*-?(?:\d(?:\.?\d){15}|\d+(?:\.\d+)?[eE])/;
const NUMBER_CHAR = /[0-9.eE+-]/;

/** A number literal of a JSON text that JSON.parse did not read as exactly the value its digits say. */
export interface InexactNumber {
  /** Where it is, from the top-level member: ['metadata', 'ids', 0]. */
  path: (string | number)[];
  /** Its text as sent. */
  text: string;
}

/** The body has a literal JSON.parse may have rounded: only then is it scanned. */
export const needsScan = (json: string) => MAY_BE_INEXACT.test(json);

type Frame = { kind: 'object'; key: string | undefined } | { kind: 'array'; index: number };

/**
 * The number literals under the top-level members `roots` of a JSON text (valid JSON, already parsed) that a
 * double does not hold exactly: 9007199254740993, 1.0000000000000001, 1e400. Iterative: a body nested thousands
 * deep costs no stack.
 */
export function inexactNumbers(json: string, roots: ReadonlySet<string>): InexactNumber[] {
  if (!needsScan(json)) return [];
  const found: InexactNumber[] = [];
  const stack: Frame[] = [];
  let i = 0;
  while (i < json.length) {
    const c = json[i] ?? '';
    const top = stack.at(-1);
    if (c === '{' || c === '[') {
      stack.push(c === '{' ? { kind: 'object', key: undefined } : { kind: 'array', index: 0 });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      if (top?.kind === 'array') top.index++;
      else if (top) top.key = undefined;
      i++;
    } else if (c === '"') {
      const end = stringEnd(json, i);
      // The first string of an object's member is its key.
      if (top?.kind === 'object' && top.key === undefined) top.key = JSON.parse(json.slice(i, end)) as string;
      i = end;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let end = i + 1;
      while (end < json.length && NUMBER_CHAR.test(json[end] ?? '')) end++;
      const text = json.slice(i, end);
      if (!holdsAsDouble(text)) {
        const path = stack.map((f) => (f.kind === 'object' ? (f.key ?? '') : f.index));
        if (typeof path[0] === 'string' && roots.has(path[0])) found.push({ path, text });
      }
      i = end;
    } else {
      i++; // whitespace, ':', and the letters of true, false and null
    }
  }
  return found;
}

/** `i` is at an opening quote; returns the index after the closing one. */
export function stringEnd(json: string, i: number): number {
  let j = i + 1;
  while (j < json.length) {
    const c = json[j];
    if (c === '\\') j += 2;
    else if (c === '"') return j + 1;
    else j++;
  }
  return json.length;
}
