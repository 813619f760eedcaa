// `npm run cluster:tools`: builds (first time) or finds the cluster's Go binaries, with progress on stderr,
// and prints their paths, so CI can build them as a step of their own before the tests.
import { runMain } from '../../src/config/env';
import { printObtained } from '../shared/cli';
import { obtainClusterTools } from './tools';

void runMain(() =>
  printObtained(
    {
      synopsis: 'npm run cluster:tools',
      about: [
        "Builds (first time) or finds the cluster's Go binaries, with progress on stderr, and prints their paths:",
        'the Temporal server, its SQL tool and the UI server. Exit code: 0 found, 1 failed (the message says how).',
      ],
    },
    async (onProgress) => {
      const tools = await obtainClusterTools({ onProgress });
      return [tools.server, tools.sqlTool, tools.uiServer];
    },
  ),
);
