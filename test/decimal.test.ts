import assert from 'node:assert/strict';
import { decimalKey, holdsAsDouble, sameDecimal } from '../src/domain/decimal';

describe('decimal: exact values of number texts', function () {
  it('spells equal values alike, whatever the zeros, point and exponent', function () {
    assert.equal(decimalKey('150.50'), '1505e-1');
    for (const same of ['150.5', '0150.500', '1.505e2', '15050E-2', '1505e-1']) {
      assert.ok(sameDecimal('150.50', same), same);
    }
    assert.equal(decimalKey('0.000'), '0');
    assert.ok(sameDecimal('-0', '0'));
    assert.ok(sameDecimal('100', '1e2'));
    assert.ok(!sameDecimal('150.50', '150.51'));
    assert.ok(!sameDecimal('-1', '1'));
    for (const text of ['', 'NaN', '1e', '.5', '1.', '+1', '0x10', ' 1']) {
      assert.equal(decimalKey(text), undefined, JSON.stringify(text));
      assert.ok(!sameDecimal(text, text), JSON.stringify(text));
    }
  });

  it('says which texts a double reader takes exactly', function () {
    for (const exact of [
      '0.1',
      '150.50',
      '1e21',
      '9007199254740992',
      '9007199254740994',
      '-0',
      '1e-7',
      '5e-324',
    ]) {
      assert.ok(holdsAsDouble(exact), exact);
    }
    for (const inexact of [
      '9007199254740993',
      '1.0000000000000001',
      '99999999999999.99',
      '1e400',
      '-1e400',
      '1e-400',
      '2.5e-324',
      '123456789012345678901234567890',
    ]) {
      assert.ok(!holdsAsDouble(inexact), inexact);
    }
  });
});
