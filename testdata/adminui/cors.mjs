// Opens the CORS test page of server/nodeparity_test.go (served by the Go
// test on an origin of its own; it connects socket.io-client 4.x over
// long-polling with an extra header, so every request is preflighted) in
// Debian's Chromium through playwright-core, waits until the page has
// recorded its outcome (an event from the server, or connect_error), and
// prints, as its last line, the page's record and the browser console's
// errors (where Chromium says why it refused a cross-origin request):
//
//   node cors.mjs '{"page":"http://127.0.0.1:Q/?api=http://127.0.0.1:P","chromium":"/usr/bin/chromium","timeoutMs":30000}'
//
// stdout (last line): {"log":[{"ev":"connect",...},...],"console":["..."]}
// It exits 1 when the page records no outcome in time; the Go test judges
// the outcome.
import { chromium } from 'playwright-core';
import { Failure, launch, poll, stopwatchLog } from '../chromium.mjs';

const cfg = JSON.parse(process.argv[2] || '{}');
const log = stopwatchLog('cors');

async function run(browser) {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  await page.goto(cfg.page);
  log(`opened ${cfg.page}`);
  await poll('the page to record its outcome', () => page.evaluate(() => window.__done === true), 20_000);
  const record = await page.evaluate(() => window.__log);
  return { log: record, console: consoleErrors };
}

const timer = setTimeout(() => {
  console.error(`cors: gave up after ${cfg.timeoutMs} ms`);
  process.exit(1);
}, cfg.timeoutMs || 30_000);

const browser = await launch(chromium, cfg.chromium);
let code = 0;
try {
  const result = await run(browser);
  console.log(JSON.stringify(result));
} catch (err) {
  console.error(err instanceof Failure ? `FAIL: ${err.message}` : err);
  code = 1;
} finally {
  await browser.close();
  clearTimeout(timer);
}
process.exit(code);
