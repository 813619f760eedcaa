// `npm run temporal:cli`: obtains the Temporal CLI (building it on first use, with progress on stderr)
// and prints only its path on stdout, so `.ci/run` and bootstrap can pre-build it before anything else.
import { runMain } from '../../src/config/env';
import { printObtained } from '../shared/cli';
import { obtainTemporalCli } from './temporal-cli';

void runMain(() =>
  printObtained(
    {
      synopsis: 'npm run temporal:cli',
      about: [
        'Finds the Temporal CLI (TEMPORAL_CLI_PATH, PATH, the cache) or builds it on first use, with progress on',
        'stderr, and prints only its path on stdout. Exit code: 0 found, 1 every way failed (the message says how).',
      ],
    },
    async (onProgress) => [await obtainTemporalCli({ onProgress })],
  ),
);
