import assert from 'node:assert/strict';
import { inexactNumbers, needsScan } from '../src/api/http/raw-numbers';

const ROOTS = new Set(['amount', 'metadata']);
const found = (json: string) => inexactNumbers(json, ROOTS).map((n) => [n.path.join('.'), n.text]);

describe('raw numbers: JSON number literals a double does not hold exactly', function () {
  it('finds each under the roots, with its path through objects and arrays', function () {
    const json =
      '{"amount": 1.0000000000000001, "metadata": {"n": 9007199254740993, "ok": 9007199254740992, ' +
      '"list": [1, 2.5, 1e400, {"deep": -1e-400}], "e": 1e21}, "other": 9007199254740993}';
    assert.deepEqual(found(json), [
      ['amount', '1.0000000000000001'],
      ['metadata.n', '9007199254740993'],
      ['metadata.list.2', '1e400'],
      ['metadata.list.3.deep', '-1e-400'],
    ]);
  });

  it('reads keys with escapes and ignores numbers inside strings and keys', function () {
    const json =
      '{"metadata": {"a\\"b": 18446744073709551615, "9007199254740993": "9007199254740993 1e400"}}';
    assert.deepEqual(found(json), [['metadata.a"b', '18446744073709551615']]);
  });

  it('reports no exact number, nor digits inside strings', function () {
    assert.deepEqual(
      found('{"amount": 150.50, "metadata": {"a": 123456789012345, "b": 0.1, "c": [1, -2]}}'),
      [],
    );
    assert.deepEqual(
      found('{"amount": "99999999999999.99", "metadata": {"id": "12345678901234567890"}}'),
      [],
    );
  });

  it('scans only a body with a literal of 16 digits or more, or an exponent, after : , or [', function () {
    for (const cheap of [
      '{"amount": 150.50, "currency": "EUR", "id": "3f1e9c2d-0b4e-4a7d-9e1f-1e5a2b3c4d5e"}',
      '{"amount": "99999999999999.99", "metadata": {"ref": "12345678901234567890", "n": 123456789012345}}',
      '{"metadata": {"a": [1, 2, 3], "b": -0.000000000001}}',
    ]) {
      assert.equal(needsScan(cheap), false, cheap);
    }
    for (const scanned of [
      '{"amount": 1.0000000000000001}',
      '{"metadata": {"n":9007199254740993}}',
      '{"metadata": {"a": [1,1e400]}}',
      '{"metadata": {"a": [ -2E-5]}}',
      '{"amount": 1234567890123456}',
    ]) {
      assert.equal(needsScan(scanned), true, scanned);
    }
  });

  it('walks a body nested far deeper than a recursive parser could, without overflowing the stack', function () {
    const depth = 200_000;
    const json = `{"metadata": ${'['.repeat(depth)}9007199254740993${']'.repeat(depth)}}`;
    const [hit] = inexactNumbers(json, ROOTS);
    assert.equal(hit?.path.length, depth + 1);
    assert.equal(hit?.text, '9007199254740993');
  });
});
