import assert from 'node:assert/strict';
import { fromMinorUnits, isCurrency, minorUnitDigits, parseAmount, toMinorUnits } from '../src/domain/money';

describe('money: decimal amounts per ISO 4217 minor units', function () {
  it('knows minor units per currency and refuses codes that are not money', function () {
    assert.equal(minorUnitDigits('INR'), 2);
    assert.equal(minorUnitDigits('JPY'), 0);
    assert.equal(minorUnitDigits('BHD'), 3);
    assert.equal(minorUnitDigits('CLF'), 4);
    for (const code of ['XAU', 'XXX', 'XTS', 'ABC', 'eur', '']) assert.equal(isCurrency(code), false, code);
  });

  it('canonicalises to exactly the currency digits, from strings and from JSON numbers', function () {
    assert.deepEqual(parseAmount('150.5', 'INR'), { ok: true, amount: '150.50' });
    assert.deepEqual(parseAmount(150.5, 'INR'), { ok: true, amount: '150.50' });
    assert.deepEqual(parseAmount('100', 'JPY'), { ok: true, amount: '100' });
    assert.deepEqual(parseAmount('0.001', 'BHD'), { ok: true, amount: '0.001' });
    assert.deepEqual(parseAmount('999999999999999.99', 'USD'), { ok: true, amount: '999999999999999.99' });
  });

  it('refuses what is not a positive plain decimal within the currency digits', function () {
    const cases: [unknown, string][] = [
      ['1.005', 'EUR'],
      ['10.5', 'JPY'],
      ['0', 'EUR'],
      ['0.00', 'EUR'],
      ['-1', 'EUR'],
      ['+1', 'EUR'],
      ['01', 'EUR'],
      ['.5', 'EUR'],
      ['5.', 'EUR'],
      ['1e3', 'EUR'],
      [' 1', 'EUR'],
      ['1,00', 'EUR'],
      ['１', 'EUR'],
      ['1000000000000000', 'EUR'],
      [Number.NaN, 'EUR'],
      [Number.POSITIVE_INFINITY, 'EUR'],
      [1e21, 'EUR'],
      [true, 'EUR'],
      [null, 'EUR'],
      ['1', 'XAU'],
    ];
    for (const [input, currency] of cases) {
      assert.equal(parseAmount(input, currency).ok, false, `${String(input)} ${currency}`);
    }
  });

  it('converts to and from integer minor units without loss', function () {
    assert.equal(toMinorUnits('150.50', 'INR'), 15050n);
    assert.equal(toMinorUnits('100', 'JPY'), 100n);
    assert.equal(fromMinorUnits(15050n, 'INR'), '150.50');
    assert.equal(fromMinorUnits(5n, 'BHD'), '0.005');
    assert.equal(fromMinorUnits(99999999999999999n, 'USD'), '999999999999999.99');
    for (const [amount, currency] of [
      ['0.01', 'EUR'],
      ['123456789012345.67', 'EUR'],
      ['7', 'KRW'],
      ['0.0001', 'CLF'],
    ] as const) {
      assert.equal(fromMinorUnits(toMinorUnits(amount, currency), currency), amount);
    }
  });
});
