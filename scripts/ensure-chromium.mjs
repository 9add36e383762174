// The end-to-end tests drive Debian's Chromium (PLATFORM.md). Install it when it is missing and
// we may (root with apt-get); otherwise say exactly what to do.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && existsSync('/usr/bin/apt-get')) {
    console.error(`${CHROMIUM} is missing: installing Debian's chromium for the end-to-end tests…`);
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit' });
  } else {
    console.error(`The end-to-end tests need Chromium at ${CHROMIUM}: install it (e.g. sudo apt-get install -y chromium) or set CHROMIUM to its path.`);
    process.exit(1);
  }
}
