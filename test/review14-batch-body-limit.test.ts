import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { batchBodyLimitBytes } from '../src/config/api';
import { apiSettings } from '../src/config/api';

// Review of issue 14, "memory stays bounded for the largest batch". The batch body limit is derived from three
// variables, each checked alone: API_BATCH_MAX_ITEMS up to 10,000, BODY_LIMIT_BYTES up to 10 MiB and
// METADATA_LIMIT_BYTES up to 1 MiB. Together they allow a single batch body of ~10 GB, held in memory whole
// (the parser buffers it, decodes it to one string, JSON.parse builds the items, and its raw bytes are kept for
// the exact-number check); past V8's longest string (~512 MiB) the decoding itself fails. Nothing at start-up
// refuses such a combination. Expected: the API refuses to start (naming a variable) rather than accept a
// limit it cannot hold, or the derived limit is capped.
describe('review14: the batch body limit a valid configuration allows', function () {
  it('stays within what one request can hold as a string', function () {
    const env = {
      API_BATCH_MAX_ITEMS: '10000',
      BODY_LIMIT_BYTES: String(10 * 1024 * 1024),
      METADATA_LIMIT_BYTES: String(1024 * 1024),
    };
    let settings: ReturnType<typeof apiSettings>;
    try {
      settings = apiSettings(env);
    } catch {
      return; // refused at start-up: fine
    }
    const limit = batchBodyLimitBytes({
      maxItems: settings.batchMaxItems,
      bodyLimitBytes: settings.bodyLimitBytes,
      metadataLimitBytes: settings.metadataLimitBytes,
    });
    assert.ok(
      limit <= constants.MAX_STRING_LENGTH,
      `a configuration the API accepts lets one batch body take ${limit} bytes (${(limit / 2 ** 30).toFixed(1)} GiB)`,
    );
  });
});
