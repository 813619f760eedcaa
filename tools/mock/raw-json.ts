import { stringEnd } from '../../src/api/http/raw-numbers';

/**
 * The source text of a top-level member of a JSON object, e.g. `150.50` for "amount" in
 * `{"amount":150.50}`, which JSON.parse would turn into 150.5. The text must already be valid JSON
 * (it is only scanned, not checked); the last member of that name wins, as with JSON.parse.
 * Returns undefined when the text is not an object or has no such member.
 */
export function rawMember(json: string, name: string): string | undefined {
  let i = skipSpace(json, 0);
  if (json[i] !== '{') return undefined;
  let found: string | undefined;
  i = skipSpace(json, i + 1);
  while (i < json.length && json[i] === '"') {
    const keyEnd = stringEnd(json, i);
    const key: unknown = JSON.parse(json.slice(i, keyEnd));
    i = skipSpace(json, keyEnd);
    if (json[i] !== ':') return undefined;
    i = skipSpace(json, i + 1);
    const valueEnd = valueEndAt(json, i);
    if (key === name) found = json.slice(i, valueEnd);
    i = skipSpace(json, valueEnd);
    if (json[i] !== ',') break;
    i = skipSpace(json, i + 1);
  }
  return found;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function skipSpace(json: string, i: number): number {
  while (isSpace(json[i])) i++;
  return i;
}

function valueEndAt(json: string, i: number): number {
  const first = json[i];
  if (first === '"') return stringEnd(json, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    let j = i;
    while (j < json.length) {
      const c = json[j];
      if (c === '"') {
        j = stringEnd(json, j);
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return json.length;
  }
  // A number or a literal: runs to the next delimiter.
  let j = i;
  while (j < json.length && json[j] !== ',' && json[j] !== '}' && json[j] !== ']' && !isSpace(json[j])) j++;
  return j;
}
