import assert from 'node:assert/strict';
import { BoundedMap } from '../src/api/bounded-map';

describe('BoundedMap', function () {
  it('drops the oldest entry once a new key would pass the capacity; an existing key keeps its place', function () {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    map.set('a', 10); // not new: nothing is dropped
    assert.deepEqual(
      [...map],
      [
        ['a', 10],
        ['b', 2],
      ],
    );
    map.set('c', 3);
    assert.deepEqual([...map.keys()], ['b', 'c']);
    assert.equal(map.size, 2);
  });
});
