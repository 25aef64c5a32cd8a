// Drives the official Socket.IO Admin UI (ui/dist of @socket.io/admin-ui,
// served by the Go test on its own origin) in Debian's Chromium through
// playwright-core, against a feedrt server with the Admin UI enabled.
// Run by server/adminui_browser_test.go; usage:
//
//   node e2e.mjs '<JSON config>'
//
// config: {
//   ui:        "http://127.0.0.1:Q/"     the UI's page,
//   server:    "http://127.0.0.1:P"      the feedrt server,
//   username, password                   the server's admin credentials,
//   sockets:   [{id, transport}]          sockets of "/" the UI must list,
//   join:      {id, room}                 a socket the UI makes join a room,
//   disconnect: id                        a socket the UI disconnects,
//   serverId:  the id the servers page must list (from server_stats),
//   artifacts: dir for screenshots (on failure, and of each step when shots is true),
//   chromium:  path of the browser, timeoutMs: overall limit
// }
//
// It prints what it checks and exits 0 when every check passed, 1 otherwise.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Failure, launch, poll, stopwatchLog } from '../chromium.mjs';

const cfg = JSON.parse(process.argv[2] || '{}');
const STEP_MS = 15_000; // bound of every single wait

const log = stopwatchLog('admin-ui');

// until is poll with STEP_MS unless told.
const until = (what, fn, timeout = STEP_MS) => poll(what, fn, timeout);

// shot saves a screenshot of page under name in the artifacts folder.
async function shot(page, name) {
  mkdirSync(cfg.artifacts, { recursive: true });
  const path = join(cfg.artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  log(`screenshot ${path}`);
}

// login fills the UI's connection form and submits it.
async function login(page, password) {
  await page.goto(cfg.ui);
  const form = page.locator('.v-dialog--active form');
  await form.getByLabel('Server URL').fill(cfg.server);
  await form.getByLabel('Username').fill(cfg.username);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Connect' }).click();
}

// socketRow is the row of the sockets table that shows socket id.
const socketRow = (page, id) => page.locator('tbody tr', { hasText: id });

async function run(browser) {
  // A wrong password: the UI shows its login error and stays on the form.
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await login(page, cfg.password + '-wrong');
      await until('the login error', () => page.locator('.v-dialog--active').getByText('Invalid credentials').isVisible());
      log('wrong password: the UI shows "Invalid credentials"');
      if (cfg.shots) await shot(page, '1-wrong-password');
    } catch (err) {
      await shot(page, 'failure-wrong-password').catch(() => {});
      throw err;
    } finally {
      await context.close();
    }
  }

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  try {
    await login(page, cfg.password);
    await until('the login form to close', async () => !(await page.locator('.v-dialog--active').isVisible()));
    log('logged in');

    // The servers page lists this server, healthy, from its stats.
    await page.goto(cfg.ui + '#/servers/');
    const serverRow = page.locator('tbody tr', { hasText: cfg.serverId });
    await until(`server ${cfg.serverId} on the servers page`, async () => (await serverRow.count()) === 1 && /healthy/i.test(await serverRow.innerText()));
    log(`servers page: ${JSON.stringify(await serverRow.innerText())}`);
    if (cfg.shots) await shot(page, '2-servers');

    // The sockets page lists the test sockets with their transports.
    await page.goto(cfg.ui + '#/sockets/');
    const labels = { polling: 'HTTP long-polling', websocket: 'WebSocket' };
    for (const s of cfg.sockets) {
      const text = await until(`socket ${s.id} on the sockets page`, async () => {
        const row = socketRow(page, s.id);
        return (await row.count()) === 1 && (await row.innerText());
      });
      if (!text.includes(labels[s.transport])) throw new Failure(`row of ${s.id} reads ${JSON.stringify(text)}, want transport ${labels[s.transport]}`);
      log(`sockets page: ${s.id} over ${labels[s.transport]}`);
    }
    if (cfg.shots) await shot(page, '3-sockets');

    // The socket's page: make it join a room, and see it in its rooms.
    await socketRow(page, cfg.join.id).locator('td').first().click();
    await until('the socket page', () => page.url().includes(`/sockets/${cfg.join.id}`));
    const input = page.getByLabel('Join a room');
    await input.fill(cfg.join.room);
    await input.locator('xpath=ancestor::form').locator('button[type=submit]').click();
    await until(`room ${cfg.join.room} in the socket's rooms`, () => page.locator('td', { hasText: cfg.join.room }).first().isVisible());
    log(`socket page: ${cfg.join.id} joined ${cfg.join.room}`);
    if (cfg.shots) await shot(page, '4-joined');

    // Back on the sockets page: disconnect one socket, and see it go.
    await page.goto(cfg.ui + '#/sockets/');
    const row = socketRow(page, cfg.disconnect);
    await until(`socket ${cfg.disconnect} listed`, async () => (await row.count()) === 1);
    await row.locator('button').click();
    await page.goto(cfg.ui + '#/sockets/');
    await until(`socket ${cfg.disconnect} to leave the sockets page`, async () => (await row.count()) === 0 && (await socketRow(page, cfg.join.id).count()) === 1);
    log(`sockets page: ${cfg.disconnect} disconnected from the UI`);
    if (cfg.shots) await shot(page, '5-disconnected');
    if (errors.length) throw new Failure(`page errors: ${errors.join('; ')}`);
  } catch (err) {
    await shot(page, 'failure').catch(() => {});
    throw err;
  } finally {
    await context.close();
  }
}

const browser = await launch(chromium, cfg.chromium);
const timer = setTimeout(() => {
  console.log(`admin-ui: gave up after ${cfg.timeoutMs} ms`);
  process.exit(1);
}, cfg.timeoutMs);
let code = 0;
try {
  await run(browser);
  log('all checks passed');
} catch (err) {
  console.log(`admin-ui: FAILED: ${err instanceof Failure ? err.message : err.stack}`);
  code = 1;
} finally {
  clearTimeout(timer);
  await browser.close();
}
process.exit(code);
