import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package; CI installs it (.ci/run, DEBIAN_PACKAGES). No browser is ever downloaded. */
export const CHROMIUM = process.env.TXFLOW_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium through playwright-core; a clear error (not a skip) when the browser is missing. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: the browser tests drive Debian's chromium package through playwright-core. ` +
        'Install it with `sudo apt-get install chromium` (CI does, through DEBIAN_PACKAGES in .ci/run), or ' +
        'point TXFLOW_CHROMIUM at a Chromium binary.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}
