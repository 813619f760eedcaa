// tools/shared/cli.ts: the tools' command-line scaffold (the load test's flags have their own tests).
import assert from 'node:assert/strict';
import { ConfigError } from '../src/config/env';
import { FlagError, parseCommandLine, renderUsage, type CommandSpec } from '../tools/shared/cli';

const SPEC = {
  synopsis: 'npm run thing -- <name...> [flags]',
  about: ['Does a thing.', 'Exit code: 0 done, 2 bad flags.'],
  lists: [{ title: 'names', rows: [['a', 'the first'] as const, ['bee', 'the second'] as const] }],
  flags: {
    size: { type: 'string', help: 'small or full', shown: 'full' },
    quick: { type: 'boolean', help: 'a short run' },
  },
  positionals: true,
} satisfies CommandSpec;

describe('the tools command-line scaffold', () => {
  it('parses the declared flags and the positionals; --help wins', () => {
    assert.deepEqual(parseCommandLine(SPEC, ['x', '--size', 'small', '--quick', 'y']), {
      help: false,
      values: { size: 'small', quick: true },
      positionals: ['x', 'y'],
    });
    assert.deepEqual(parseCommandLine(SPEC, ['--size=small', '--help']), { help: true });
  });

  it('refuses an unknown flag, or a positional where none is taken, with a FlagError (exit code 2)', () => {
    for (const [spec, argv] of [
      [SPEC, ['--nope']],
      [{ ...SPEC, positionals: false }, ['x']],
    ] as const) {
      assert.throws(
        () => parseCommandLine(spec, argv),
        (err: unknown) =>
          err instanceof FlagError && err instanceof ConfigError && /^Invalid flags:\n {2}/.test(err.message),
      );
    }
  });

  it('renders the usage: synopsis, about, lists, then every flag with its default, --help last', () => {
    assert.equal(
      renderUsage(SPEC),
      [
        'npm run thing -- <name...> [flags]',
        '',
        'Does a thing.',
        'Exit code: 0 done, 2 bad flags.',
        '',
        'names:',
        '  a    the first',
        '  bee  the second',
        '',
        'flag        meaning        default',
        '--size <v>  small or full  full',
        '--quick     a short run',
        '--help      this text',
      ].join('\n'),
    );
  });
});
