// What the Node harnesses that drive Debian's Chromium through
// playwright-core share (adminui/e2e.mjs, webapp/e2e/browser.mjs):
// launching the browser, the failure they report, waiting for a
// condition, and a log with the time since the start.
//
// This file imports no package: each harness has its own node_modules
// (npm ci in its folder) and passes in the `chromium` of its own
// playwright-core, which Node would not find from here.

// The flags this machine's Chromium needs: no sandbox (root), no GPU, and
// no background traffic to hosts the closed network refuses.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

// launch starts the browser at executablePath (Debian's by default) with
// playwright-core's chromium.
export function launch(chromium, executablePath) {
  return chromium.launch({
    executablePath: executablePath || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

// Failure is a check that did not hold: reported by its message, without
// a stack.
export class Failure extends Error {}

// poll calls fn (async) until it returns a truthy value, which it
// returns, or timeout ms pass, then fails with what fn last returned or
// threw. fn may return {wait: detail} to go on waiting with that detail.
export async function poll(what, fn, timeout) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last && !(typeof last === 'object' && 'wait' in last)) return last;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) throw new Failure(`timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// stopwatchLog returns a console.log that starts each line with label and
// the seconds since this call.
export function stopwatchLog(label) {
  const started = Date.now();
  return (...args) => console.log(`${label} ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s:`, ...args);
}
