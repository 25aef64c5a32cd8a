// Drives the built feed app (dist-v4 or dist-v2) in Debian's Chromium
// through playwright-core, against a real feedrt server. Run by
// server/browser_test.go; usage:
//
//   node e2e/browser.mjs '<JSON config>'
//
// config: {
//   mode:      "live" | "cors-refused",
//   client:    "v4" | "v2"            the build the page URL serves,
//   api:       "http://127.0.0.1:P"   the feedrt server,
//   page:      "http://127.0.0.1:Q/v4/?api=..."  the app, on another origin,
//   users:     [A, B], each {email, password, name, id, token},
//   seeded:    titles of B's posts already on page 1, newest first,
//   images:    [png path, png path]   files user A uploads,
//   artifacts: dir for screenshots, made only on failure,
//   chromium:  path of the browser, timeoutMs: overall limit
// }
//
// It prints what it checks and exits 0 when every check passed, 1 otherwise.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Failure, launch, poll, stopwatchLog } from '../../chromium.mjs';

const cfg = JSON.parse(process.argv[2] || '{}');
const STEP_MS = 10_000; // bound of every single wait

const log = stopwatchLog('browser');

function check(ok, message) {
  if (!ok) throw new Failure(message);
}

// until is poll with STEP_MS unless told.
const until = (what, fn, timeout = STEP_MS) => poll(what, fn, timeout);

// watch records everything about a page the checks need afterwards.
function watch(page, name) {
  const w = { name, page, console: [], errors: [], engineIO: new Set(), failed: [], mainNavigations: 0 };
  page.on('console', (m) => w.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (err) => w.errors.push(String(err)));
  page.on('request', (r) => {
    const m = /\/socket\.io\/\?.*\bEIO=(\d)/.exec(r.url());
    if (m) w.engineIO.add(m[1]);
  });
  page.on('requestfailed', (r) => w.failed.push({ url: r.url(), error: r.failure() && r.failure().errorText }));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) w.mainNavigations++;
  });
  return w;
}

async function text(page, testId) {
  return (await page.getByTestId(testId).textContent({ timeout: STEP_MS })).trim();
}

// titles lists the titles on the page, top first.
async function titles(page) {
  return page.getByTestId('post-title').allTextContents();
}

async function login(page, user) {
  await page.getByTestId('login-email').fill(user.email);
  await page.getByTestId('login-password').fill(user.password);
  await page.getByTestId('login-submit').click();
}

// openFeed loads the app and logs user in through the form, then waits for
// page 1 and a connected socket.
async function openFeed(w, user, wantTitles) {
  const { page } = w;
  await page.goto(cfg.page, { timeout: STEP_MS });
  const build = await text(page, 'client-build');
  check(build.endsWith(cfg.client), `page says "${build}", want socket.io-client ${cfg.client}`);
  await login(page, user);
  await until(`${w.name}'s page 1 ${JSON.stringify(wantTitles)}`, async () => {
    const err = await page.getByTestId('feed-error').count();
    check(err === 0, `feed error: ${err && (await text(page, 'feed-error'))}`);
    return JSON.stringify(await titles(page)) === JSON.stringify(wantTitles);
  });
  const seen = (testId, want) => async () => {
    const got = await text(page, testId);
    return got === want || { wait: got };
  };
  await until(`${w.name}'s socket to connect`, seen('socket-status', 'connected'));
  // The client upgrades polling to WebSocket; in a browser that upgrade
  // only works if the server accepts the page's Origin.
  await until(`${w.name}'s transport to become websocket`, seen('socket-transport', 'websocket'));
  log(`${w.name} logged in, sees ${JSON.stringify(wantTitles)}, socket connected over websocket`);
}

// article is the post with the given id on the page.
function article(page, id) {
  return page.locator(`[data-testid="post"][data-id="${id}"]`);
}

async function imageState(page, id) {
  return article(page, id)
    .getByTestId('post-image')
    .evaluate((img) => ({ src: img.src, loaded: img.complete && img.naturalWidth > 0 }), null, { timeout: STEP_MS });
}

// untouched checks that B's page is still the document it loaded: no
// reload and no navigation since the marker was set.
async function untouched(w, marker, step) {
  const got = await w.page.evaluate(() => window.__marker);
  check(got === marker, `${w.name}'s page was reloaded during "${step}" (marker ${JSON.stringify(got)})`);
  check(w.mainNavigations === 0, `${w.name}'s page navigated ${w.mainNavigations} time(s) during "${step}"`);
}

async function submitForm(page, { title, content, file }) {
  await page.getByTestId('form-title').fill(title);
  await page.getByTestId('form-content').fill(content);
  if (file) await page.getByTestId('form-image').setInputFiles(file);
  await page.getByTestId('form-submit').click();
  await until('the post form to close', async () => {
    if (await page.getByTestId('form-error').count()) throw new Failure(`form error: ${await text(page, 'form-error')}`);
    return (await page.getByTestId('post-form').count()) === 0;
  });
}

// live: user A creates, edits (twice) and deletes a post through the UI;
// user B's page follows every change through the `posts` events alone.
async function runLive(browser, pages) {
  const [A, B] = cfg.users;
  const seeded = cfg.seeded;
  const a = watch(await (await browser.newContext()).newPage(), 'A');
  const b = watch(await (await browser.newContext()).newPage(), 'B');
  pages.push(a, b);

  await openFeed(b, B, seeded);
  const marker = `b-${Math.random()}`;
  await b.page.evaluate((m) => (window.__marker = m), marker);
  b.mainNavigations = 0;
  const loadsBefore = await b.page.evaluate(() => window.__feed.loads);
  await openFeed(a, A, seeded);

  // Create, with an image, through the form.
  const title = 'Hello from the browser';
  await a.page.getByTestId('new-post').click();
  await submitForm(a.page, { title, content: 'Written in Chromium.', file: cfg.images[0] });
  const id = await until('the new post on B\'s page', async () => {
    const first = b.page.getByTestId('post').first();
    return (await first.getByTestId('post-title').textContent()) === title && first.getAttribute('data-id');
  });
  const afterCreate = await titles(b.page);
  check(
    JSON.stringify(afterCreate) === JSON.stringify([title, seeded[0]]),
    `B's page 1 after create is ${JSON.stringify(afterCreate)}, want the new post on top and 2 per page`,
  );
  check((await b.page.getByTestId('posts').getAttribute('data-total')) === String(seeded.length + 1), 'B\'s total did not grow');
  check((await article(b.page, id).getByTestId('post-creator').textContent()) === A.name, 'B sees the wrong creator name');
  const img1 = await until('the image to load on B\'s page', async () => {
    const s = await imageState(b.page, id);
    return s.loaded && s;
  });
  check(img1.src.startsWith(`${cfg.api}/images/`), `image src ${img1.src} is not under ${cfg.api}/images/`);
  check(await a.page.getByTestId('post').first().getAttribute('data-id') === id, 'A\'s own page lacks the new post');
  await untouched(b, marker, 'create');
  log(`create ${id}: B sees it on top, 2 per page, image ${img1.src} loaded`);

  // Edit, keeping the image: the form sends image=<existing imageUrl>.
  await article(a.page, id).getByTestId('post-edit').click();
  await submitForm(a.page, { title: `${title} (edited)`, content: 'Edited in Chromium.' });
  await until('the edited title on B\'s page', async () => (await article(b.page, id).getByTestId('post-title').textContent()) === `${title} (edited)`);
  check((await article(b.page, id).getByTestId('post-content').textContent()) === 'Edited in Chromium.', 'B sees the old content');
  const img2 = await imageState(b.page, id);
  check(img2.src === img1.src && img2.loaded, `edit without a new file changed or broke the image: ${JSON.stringify(img2)}`);
  await untouched(b, marker, 'edit');
  log('update (same image): B sees the new title and content in place');

  // Edit with a new file: the image is replaced and the old file removed.
  await article(a.page, id).getByTestId('post-edit').click();
  await submitForm(a.page, { title: `${title} (new picture)`, content: 'Edited in Chromium.', file: cfg.images[1] });
  const img3 = await until('the new image on B\'s page', async () => {
    const s = await imageState(b.page, id);
    return s.src !== img1.src && s.loaded && s;
  });
  check((await article(b.page, id).getByTestId('post-title').textContent()) === `${title} (new picture)`, 'B sees an old title');
  const old = await fetch(img1.src);
  check(old.status === 404, `the replaced image ${img1.src} is still served (${old.status})`);
  await untouched(b, marker, 'edit with a new image');
  log(`update (new image): B shows ${img3.src}; the old file is gone`);

  // Delete: B's page reloads its data (not itself) through GET /feed/posts.
  await article(a.page, id).getByTestId('post-delete').click();
  await until('the post to vanish from B\'s page', async () => JSON.stringify(await titles(b.page)) === JSON.stringify(seeded));
  check((await b.page.getByTestId('posts').getAttribute('data-total')) === String(seeded.length), 'B\'s total did not shrink');
  await until('the post to vanish from A\'s page', async () => JSON.stringify(await titles(a.page)) === JSON.stringify(seeded));
  await untouched(b, marker, 'delete');

  const live = await b.page.evaluate(() => window.__feed);
  check(
    JSON.stringify(live.events) === JSON.stringify(['create', 'update', 'update', 'delete']),
    `B received posts events ${JSON.stringify(live.events)}`,
  );
  check(live.loads === loadsBefore + 1, `B fetched posts ${live.loads - loadsBefore} times after login, want once (on delete)`);
  check(!live.socket.some((s) => s !== 'connected'), `B's socket had trouble: ${JSON.stringify(live.socket)}`);
  log('delete: B reloaded page 1 by GET, without a page reload; events', JSON.stringify(live.events));

  const wantEIO = cfg.client === 'v2' ? '3' : '4';
  for (const w of [a, b]) {
    check(
      w.engineIO.size === 1 && w.engineIO.has(wantEIO),
      `${w.name} spoke Engine.IO ${[...w.engineIO]}, want ${wantEIO} for socket.io-client ${cfg.client}`,
    );
  }
  log(`both pages spoke Engine.IO v${wantEIO} only`);
}

// corsRefused: the API does not list the page's origin, so the browser must
// keep the page from reading anything and the socket must not connect.
async function runCORSRefused(browser, pages) {
  const [, B] = cfg.users;
  const b = watch(await (await browser.newContext()).newPage(), 'B');
  pages.push(b);

  await b.page.goto(cfg.page, { timeout: STEP_MS });
  await login(b.page, B);
  const loginErr = await until('the login error', async () => (await b.page.getByTestId('login-error').count()) && text(b.page, 'login-error'));
  check((await b.page.getByTestId('login-form').count()) === 1, 'the login form is gone although login was refused');
  log(`login refused: "${loginErr}"`);

  // A valid session (token made over REST, outside the browser) must not
  // help: the browser still blocks the feed and the socket.
  await b.page.evaluate((u) => {
    localStorage.setItem('token', u.token);
    localStorage.setItem('userId', u.id);
  }, B);
  await b.page.reload({ timeout: STEP_MS });
  const feedErr = await until('the feed error', async () => (await b.page.getByTestId('feed-error').count()) && text(b.page, 'feed-error'));
  check((await b.page.getByTestId('post').count()) === 0, 'posts are shown although the browser must block them');
  await until('a socket connect_error', async () => (await b.page.evaluate(() => window.__feed.socket)).some((s) => s.startsWith('error')));
  // Give the client time for its first reconnection attempts too.
  await new Promise((r) => setTimeout(r, 2500));
  const states = await b.page.evaluate(() => window.__feed.socket);
  check(!states.includes('connected'), `the socket connected: ${JSON.stringify(states)}`);
  check((await b.page.evaluate(() => window.__feed.events)).length === 0, 'posts events arrived');
  log(`feed refused: "${feedErr}"; socket states ${JSON.stringify(states)}`);

  // The refusals are the browser's (CORS), not a dead server.
  const blocked = (part) => b.failed.some((f) => f.url.includes(part));
  check(blocked('/auth/login'), `no blocked /auth/login request: ${JSON.stringify(b.failed)}`);
  check(blocked('/feed/posts'), `no blocked /feed/posts request: ${JSON.stringify(b.failed)}`);
  check(blocked('/socket.io/'), `no blocked /socket.io/ request: ${JSON.stringify(b.failed)}`);
  const apiUp = await fetch(`${cfg.api}/feed/posts`, { headers: { Authorization: `Bearer ${B.token}` } });
  check(apiUp.status === 200, `the API itself answers ${apiUp.status} outside the browser`);

  // Browsers do not apply CORS to WebSocket: the server must refuse the
  // upgrade itself by the Origin header.
  const ws = await b.page.evaluate(
    (url) =>
      new Promise((resolve) => {
        const s = new WebSocket(url);
        const t = setTimeout(() => resolve('no answer'), 5000);
        s.onopen = () => {
          clearTimeout(t);
          s.close();
          resolve('open');
        };
        s.onerror = () => {
          clearTimeout(t);
          resolve('refused');
        };
      }),
    `${cfg.api.replace(/^http/, 'ws')}/socket.io/?EIO=${cfg.client === 'v2' ? 3 : 4}&transport=websocket`,
  );
  check(ws === 'refused', `a WebSocket from the refused origin ended as "${ws}"`);
  log('blocked by the browser: /auth/login, /feed/posts, /socket.io/; direct WebSocket refused');
}

async function saveArtifacts(pages) {
  mkdirSync(cfg.artifacts, { recursive: true });
  for (const w of pages) {
    // The browser's own words (a CORS refusal, say) go to the test log too.
    for (const line of w.console.filter((l) => l.startsWith('error')).slice(-4)) log(`${w.name} console ${line}`);
    const shot = join(cfg.artifacts, `${cfg.client}-${cfg.mode}-${w.name}.png`);
    try {
      await w.page.screenshot({ path: shot, fullPage: true, timeout: 5000 });
      log(`screenshot of ${w.name}: ${shot}`);
    } catch (err) {
      log(`screenshot of ${w.name} failed: ${err.message}`);
    }
    const info = join(cfg.artifacts, `${cfg.client}-${cfg.mode}-${w.name}.log`);
    writeFileSync(
      info,
      [`url: ${w.page.url()}`, '--- console', ...w.console, '--- page errors', ...w.errors, '--- failed requests', ...w.failed.map((f) => `${f.url} ${f.error}`)].join('\n') + '\n',
    );
    log(`console and failed requests of ${w.name}: ${info}`);
  }
}

async function main() {
  const browser = await launch(chromium, cfg.chromium);
  const pages = [];
  let failed = false;
  const watchdog = setTimeout(async () => {
    log(`gave up after ${cfg.timeoutMs} ms`);
    await saveArtifacts(pages).catch(() => {});
    process.exit(1);
  }, cfg.timeoutMs || 60_000);
  try {
    if (cfg.mode === 'live') await runLive(browser, pages);
    else if (cfg.mode === 'cors-refused') await runCORSRefused(browser, pages);
    else throw new Failure(`unknown mode ${cfg.mode}`);
    for (const w of pages) check(w.errors.length === 0, `uncaught errors on ${w.name}'s page: ${w.errors.join('; ')}`);
    log('PASS');
  } catch (err) {
    failed = true;
    log('FAIL:', err instanceof Failure ? err.message : err.stack);
    await saveArtifacts(pages);
  } finally {
    clearTimeout(watchdog);
    await browser.close().catch(() => {});
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
