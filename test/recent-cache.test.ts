import assert from 'node:assert/strict';
import { RecentCache } from '../src/api/transactions/recent-cache';

describe('RecentCache', function () {
  let now = 0;
  const clock = () => now;

  beforeEach(function () {
    now = 0;
  });

  it('drops the oldest entry once a new key would pass the capacity; setting a key again renews it', function () {
    const cache = new RecentCache<string, number>(2, 60_000, clock);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 10); // renewed: now the newest
    cache.set('c', 3);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 10);
    assert.equal(cache.get('c'), 3);
  });

  it('reads an entry older than its age as absent', function () {
    const cache = new RecentCache<string, number>(10, 1_000, clock);
    cache.set('a', 1);
    now = 1_000;
    assert.equal(cache.has('a'), true);
    now = 1_001;
    assert.equal(cache.has('a'), false);
    assert.equal(cache.get('a'), undefined);
    cache.set('a', 2);
    assert.equal(cache.get('a'), 2);
  });
});
