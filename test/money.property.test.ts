import assert from 'node:assert/strict';
import cc from 'currency-codes';
import fc from 'fast-check';
import { canonicalJson, fromApiBody } from '../src/api/transactions/submission';
import {
  apiSubmissionSchema,
  FORBIDDEN_KEYS,
  RESERVED_METADATA_KEYS,
  transactionId,
} from '../src/api/transactions/submission-schemas';
import { fromMinorUnits, isCurrency, minorUnitDigits, parseAmount, toMinorUnits } from '../src/domain/money';

// Every postable ISO 4217 currency, with its minor-unit digits (0 for JPY, 2 for EUR, 3 for BHD, 4 for CLF).
const CURRENCIES = cc.codes().filter(isCurrency);
const digitsOf = (currency: string): number => {
  const digits = minorUnitDigits(currency);
  assert.ok(digits !== undefined, currency);
  return digits;
};
const currency = fc.constantFrom(...CURRENCIES);

// Canonical amounts have at most 15 integer digits and exactly the currency's fraction digits.
const MAX_INTEGER_DIGITS = 15;
const integerPart = fc.stringMatching(new RegExp(`^(0|[1-9][0-9]{0,${MAX_INTEGER_DIGITS - 1}})$`));
const digitString = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
const isZero = (s: string) => /^[0.]*$/.test(s);

/** A canonical decimal for the currency: what parseAmount returns. */
const canonicalAmount = (c: string) =>
  fc
    .tuple(integerPart, digitString(digitsOf(c), digitsOf(c)))
    .map(([i, f]) => (f === '' ? i : `${i}.${f}`))
    .filter((s) => !isZero(s));

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-';
/** The URL dot segments: allowed characters, but a path holding them resolves to another path. */
const DOT_SEGMENTS = ['.', '..'];
/** The ID rule written out independently of the schema's regex: 1-128 of exactly these characters, no dot segment. */
const isValidId = (s: string) =>
  s.length >= 1 &&
  s.length <= 128 &&
  [...s].every((ch) => ID_CHARS.includes(ch)) &&
  !DOT_SEGMENTS.includes(s);
const validId = fc
  .string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 128 })
  .filter((id) => !DOT_SEGMENTS.includes(id));

const acceptsId = (s: unknown) => transactionId.safeParse(s).success;

describe('money and validators (property-based, fast-check)', function () {
  it('knows a few hundred currencies, each with 0-4 minor digits', function () {
    assert.ok(CURRENCIES.length > 150, String(CURRENCIES.length));
    for (const c of CURRENCIES) assert.ok([0, 2, 3, 4].includes(digitsOf(c)), c);
  });

  it('fromMinorUnits → parseAmount → toMinorUnits round-trips every positive minor-unit amount exactly', function () {
    const amounts = currency.chain((c) =>
      fc.tuple(
        fc.constant(c),
        fc.bigInt({ min: 1n, max: 10n ** BigInt(MAX_INTEGER_DIGITS + digitsOf(c)) - 1n }),
      ),
    );
    fc.assert(
      fc.property(amounts, ([c, minor]) => {
        const text = fromMinorUnits(minor, c);
        const parsed = parseAmount(text, c);
        assert.deepEqual(parsed, { ok: true, amount: text });
        assert.equal(toMinorUnits(text, c), minor);
      }),
      { numRuns: 1_000 },
    );
  });

  it('parseAmount returns any canonical decimal unchanged, and pads shorter fractions', function () {
    fc.assert(
      fc.property(
        currency.chain((c) => fc.tuple(fc.constant(c), canonicalAmount(c))),
        ([c, amount]) => {
          assert.deepEqual(parseAmount(amount, c), { ok: true, amount });
        },
      ),
      { numRuns: 1_000 },
    );
    const shorter = currency
      .filter((c) => digitsOf(c) > 0)
      .chain((c) =>
        fc
          .tuple(fc.constant(c), integerPart, digitString(0, digitsOf(c) - 1), fc.boolean())
          .map(([, i, f, dot]) => ({
            c,
            text: f === '' && !dot ? i : `${i}.${f}`,
            expected: `${i}.${f.padEnd(digitsOf(c), '0')}`,
          })),
      )
      .filter(({ text }) => !isZero(text) && !text.endsWith('.'));
    fc.assert(
      fc.property(shorter, ({ c, text, expected }) => {
        assert.deepEqual(parseAmount(text, c), { ok: true, amount: expected });
      }),
    );
  });

  it('a JSON number is taken at its exact digits below 10^(15 - minor digits), and refused above', function () {
    // Below the bound every decimal of the currency's precision survives the trip through a double.
    const small = currency.chain((c) =>
      fc.tuple(
        fc.constant(c),
        fc.bigInt({ min: 1n, max: 10n ** BigInt(MAX_INTEGER_DIGITS) - 1n }).map((m) => fromMinorUnits(m, c)),
      ),
    );
    fc.assert(
      fc.property(small, ([c, amount]) => {
        assert.deepEqual(parseAmount(Number(amount), c), { ok: true, amount });
      }),
      { numRuns: 1_000 },
    );
    const large = currency.chain((c) =>
      fc.tuple(
        fc.constant(c),
        fc.double({ min: 10 ** (MAX_INTEGER_DIGITS - digitsOf(c)), max: 1e300, noNaN: true }),
      ),
    );
    fc.assert(fc.property(large, ([c, n]) => assert.equal(parseAmount(n, c).ok, false)));
  });

  it('refuses any amount with more fraction digits than the currency allows', function () {
    const tooPrecise = currency.chain((c) =>
      fc
        .tuple(integerPart, digitString(digitsOf(c) + 1, digitsOf(c) + 12))
        .map(([i, f]) => ({ c, text: `${i}.${f}` })),
    );
    fc.assert(
      fc.property(tooPrecise, ({ c, text }) => {
        const parsed = parseAmount(text, c);
        assert.equal(parsed.ok, false, `${text} ${c}`);
        if (!parsed.ok) assert.match(parsed.reason, /decimal places/);
      }),
      { numRuns: 1_000 },
    );
  });

  it('refuses anything that is not a plain positive decimal string', function () {
    fc.assert(
      fc.property(currency, fc.string({ unit: 'binary', maxLength: 20 }), (c, s) => {
        const plain = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(s);
        if (!plain) assert.equal(parseAmount(s, c).ok, false, JSON.stringify(s));
      }),
      { numRuns: 2_000 },
    );
  });

  it('the currency rule: upper-case postable ISO 4217 codes only', function () {
    fc.assert(
      fc.property(fc.constantFrom(...CURRENCIES), (c) => {
        assert.equal(isCurrency(c.toLowerCase()), false);
        assert.equal(isCurrency(` ${c}`), false);
        assert.equal(isCurrency(`${c} `), false);
      }),
    );
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const threeLetters = fc.string({ unit: fc.constantFrom(...letters), minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(fc.oneof(threeLetters, fc.string({ unit: 'binary', maxLength: 5 })), (s) => {
        assert.equal(isCurrency(s), /^[A-Z]{3}$/.test(s) && CURRENCIES.includes(s), s);
        if (isCurrency(s)) assert.ok(cc.code(s) !== undefined, s);
      }),
      { numRuns: 2_000 },
    );
  });

  describe('transaction ID schema: exactly /^[A-Za-z0-9._:-]{1,128}$/ but "." and ".."', function () {
    it('accepts every ID of 1-128 allowed characters', function () {
      fc.assert(
        fc.property(validId, (id) => assert.equal(acceptsId(id), true, id)),
        { numRuns: 1_000 },
      );
    });

    it('refuses an allowed ID with any other character put in', function () {
      const outsider = fc
        .string({ unit: 'binary', minLength: 1, maxLength: 1 })
        .filter((ch) => !ID_CHARS.includes(ch));
      const spoiled = fc
        .tuple(fc.string({ unit: fc.constantFrom(...ID_CHARS), maxLength: 127 }), outsider, fc.nat())
        .map(([id, ch, at]) => {
          const i = at % (id.length + 1);
          return id.slice(0, i) + ch + id.slice(i);
        });
      fc.assert(
        fc.property(spoiled, (id) => assert.equal(acceptsId(id), false, JSON.stringify(id))),
        { numRuns: 1_000 },
      );
    });

    it('refuses the empty ID, the dot segments and any over 128 characters', function () {
      assert.equal(acceptsId(''), false);
      for (const id of DOT_SEGMENTS) assert.equal(acceptsId(id), false, id);
      for (const id of ['...', '.a', 'a.', '..a', 'a..b']) assert.equal(acceptsId(id), true, id);
      const tooLong = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 129, maxLength: 400 });
      fc.assert(fc.property(tooLong, (id) => assert.equal(acceptsId(id), false, `${id.length}`)));
    });

    it('agrees with the rule on arbitrary strings and values', function () {
      const anyString = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 140 }),
        fc.string({ unit: fc.constantFrom(...ID_CHARS, ' ', '/', 'é', '\u0000'), maxLength: 140 }),
      );
      fc.assert(
        fc.property(anyString, (s) => assert.equal(acceptsId(s), isValidId(s), JSON.stringify(s))),
        { numRuns: 2_000 },
      );
      fc.assert(
        fc.property(
          fc.anything().filter((v) => typeof v !== 'string'),
          (v) => assert.equal(acceptsId(v), false),
        ),
      );
    });
  });

  describe('canonical JSON (the fingerprint of a submission)', function () {
    /** The same value with the keys of every object in another order. */
    function reorder(value: unknown, seed: number): unknown {
      if (Array.isArray(value)) return value.map((v, i) => reorder(v, seed + i));
      if (value === null || typeof value !== 'object') return value;
      const entries = Object.entries(value).map(([k, v], i) => [k, reorder(v, seed * 31 + i)] as const);
      // Fisher-Yates driven by a small LCG: deterministic for a seed, a different order for most.
      let state = seed >>> 0;
      for (let i = entries.length - 1; i > 0; i--) {
        state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
        const j = state % (i + 1);
        [entries[i], entries[j]] = [
          entries[j] as (typeof entries)[number],
          entries[i] as (typeof entries)[number],
        ];
      }
      return Object.fromEntries(entries); // fromEntries keeps a "__proto__" key as an own property
    }

    it('does not depend on key order, at any depth', function () {
      fc.assert(
        fc.property(fc.jsonValue(), fc.integer(), (value, seed) => {
          assert.equal(canonicalJson(reorder(value, seed)), canonicalJson(value));
        }),
        { numRuns: 1_000 },
      );
    });

    it('is JSON for the same value, and a fixed point (parsing and canonicalising again changes nothing)', function () {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          const text = canonicalJson(value);
          assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
          assert.equal(canonicalJson(JSON.parse(text)), text);
        }),
      );
    });

    it('gives a submission the same fingerprint whatever the order of its body and metadata keys', function () {
      const schema = apiSubmissionSchema(64 * 1024);
      // Valid metadata only: a key the API refuses (at any depth) would fail the parse, not the fingerprint.
      const allowed = (k: string) => !FORBIDDEN_KEYS.has(k);
      const allowedAtTop = (k: string) => allowed(k) && !RESERVED_METADATA_KEYS.has(k);
      const metadata = fc.dictionary(
        fc.string({ minLength: 1, maxLength: 8 }).filter(allowedAtTop),
        fc.oneof(
          fc.string({ maxLength: 10 }),
          fc.integer(),
          fc.boolean(),
          fc.dictionary(fc.string().filter(allowed), fc.nat()),
        ),
        { maxKeys: 6 },
      );
      const body = fc.record({
        id: validId,
        amount: fc.constantFrom('1.00', '150.5', 99.9, '0.01'),
        currency: fc.constantFrom('EUR', 'USD', 'INR'),
        description: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
        metadata,
        source_account: fc.constantFrom('acc_a', 'acc_b'),
      });
      fc.assert(
        fc.property(body, fc.integer(), (b, seed) => {
          const parse = (v: unknown) => {
            const parsed = schema.safeParse(v);
            assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
            return fromApiBody(parsed.data, b.id, new Date(0)).fingerprint;
          };
          assert.equal(parse(reorder(b, seed)), parse(b));
        }),
        { numRuns: 300 },
      );
    });
  });
});
