import { execFile } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a short-lived command to its end and resolves its output; rejects with a message holding the
 * command line and the tail of its output when it fails or outlives `timeoutMs`.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; label?: string } = {},
): Promise<CommandResult> {
  const label = options.label ?? [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ stdout, stderr });
          return;
        }
        // Colour codes (Go tools colour their log levels) would only garble a message.
        // eslint-disable-next-line no-control-regex
        const plain = `${stdout}\n${stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
        const output = plain.trim().split('\n').slice(-20).join('\n');
        const how = err.killed
          ? `was stopped after ${Math.round((options.timeoutMs ?? 120_000) / 1000)} s`
          : err.message.split('\n')[0];
        reject(new Error(`\`${label}\` failed: ${how}${output ? `\n${output}` : ''}`));
      },
    );
  });
}
