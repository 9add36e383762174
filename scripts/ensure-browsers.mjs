// The end-to-end tests drive three engines from Debian's packages: Chromium, Firefox ESR and
// WebKitGTK (through WebKitWebDriver, under Xvfb). Install what is missing when we may (root with
// apt-get); otherwise say exactly what to install.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDED = [
  { what: 'Chromium', path: process.env.CHROMIUM ?? '/usr/bin/chromium', pkg: 'chromium', env: 'CHROMIUM' },
  { what: 'Firefox ESR', path: process.env.FIREFOX ?? '/usr/bin/firefox-esr', pkg: 'firefox-esr', env: 'FIREFOX' },
  { what: 'WebKitWebDriver', path: process.env.WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver', pkg: 'webkit2gtk-driver', env: 'WEBKIT_DRIVER' },
  { what: 'Xvfb', path: '/usr/bin/Xvfb', pkg: 'xvfb' },
];

const missing = NEEDED.filter((n) => !existsSync(n.path));
if (missing.length > 0) {
  const packages = missing.map((n) => n.pkg).join(' ');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && existsSync('/usr/bin/apt-get')) {
    console.error(`${missing.map((n) => n.what).join(', ')} missing: installing Debian's ${packages} for the end-to-end tests…`);
    execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages}`, { stdio: 'inherit' });
  } else {
    for (const n of missing) console.error(`The end-to-end tests need ${n.what} at ${n.path}${n.env ? ` (or set ${n.env} to its path)` : ''}.`);
    console.error(`Install them with: sudo apt-get install -y ${packages}`);
    process.exit(1);
  }
}
