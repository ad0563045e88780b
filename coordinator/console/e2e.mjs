// The console's end-to-end test in a real browser; TestConsoleInChromium
// (e2e_test.go, build tag ui) starts the coordinator and runs this with
// CONSOLE_URL, ARTIFACTS (screenshot folder), SINK_FILE, CHROMIUM (the
// browser's executable) and PLAYWRIGHT_DIR (where playwright-core is
// installed). Every wait is bounded; any failure exits non-zero.
import { createRequire } from 'node:module';
import path from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(name + ' is not set');
  return v;
};
const require = createRequire(path.join(env('PLAYWRIGHT_DIR'), 'package.json'));
const { chromium } = require('playwright-core');

const url = env('CONSOLE_URL');
const base = new URL('/', url).href;
const shots = env('ARTIFACTS');
const sinkFile = env('SINK_FILE');
const name = 'console-sink';
const SHORT = 15000, LONG = 90000;

function step(what) { console.log(new Date().toISOString(), what); }
function assert(cond, what) { if (!cond) throw new Error('assertion failed: ' + what); }

const browser = await chromium.launch({ executablePath: env('CHROMIUM'), args: ['--no-sandbox'], timeout: 60000 });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(SHORT);
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text() + ' (' + m.location().url + ')'); });

  // Page weight: bytes on the wire (headers included) of every response of
  // the first load, until the overview shows the example connector.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const urls = new Map();
  const weight = { assets: 0, api: 0, requests: 0 };
  let counting = true;
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    if (!counting) return;
    const u = urls.get(e.requestId) || '';
    weight.requests++;
    if (new URL(u, base).pathname.startsWith('/ui/')) weight.assets += e.encodedDataLength;
    else weight.api += e.encodedDataLength;
  });

  step('open the console');
  await page.goto(url, { waitUntil: 'load' });
  await page.locator('#cluster').waitFor();
  await page.locator('tr[data-connector="orders-datagen"]').waitFor({ timeout: LONG });
  await page.locator('#invoker', { hasText: 'inprocess' }).waitFor();
  counting = false;
  console.log(`PAGE_WEIGHT total=${weight.assets + weight.api} assets=${weight.assets} api=${weight.api} requests=${weight.requests}`);
  await page.locator('#leader', { hasText: 'this coordinator' }).waitFor();
  await page.locator('#coordinators li.leader', { hasText: 'this one' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'overview.png'), fullPage: true });

  step('create a FileStreamSink through the form');
  await page.click('#nav-new');
  await page.selectOption('#plugin', 'org.apache.kafka.connect.file.FileStreamSinkConnector');
  const field = (key) => page.locator(`.field[data-key="${key}"]`);
  await field('file').waitFor();
  await field('name').locator('input').fill(name);
  await field('topics').locator('input').fill('orders');
  await field('file').locator('input').fill(sinkFile);
  await field('key.converter').locator('input').fill('org.apache.kafka.connect.storage.StringConverter');
  await field('value.converter').locator('input').fill('org.apache.kafka.connect.storage.StringConverter');
  await field('tasks.max').locator('input').fill('abc');
  await field('tasks.max').locator('.error', { hasText: 'Not a number of type INT' }).waitFor();
  assert(await field('tasks.max').evaluate((el) => el.classList.contains('invalid')), 'tasks.max is marked invalid');
  // Submitting with the error shown does not create the connector.
  await page.click('#submit');
  await page.locator('#form-msg', { hasText: 'Fix the' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'form-invalid.png'), fullPage: true });
  const early = await page.request.get(base + 'connectors/' + name);
  assert(early.status() === 404, 'no connector created while the form has an error, got ' + early.status());
  await field('tasks.max').locator('input').fill('1');
  await page.waitForFunction(() => document.querySelector('.field[data-key="tasks.max"] .error').textContent === '');
  await page.click('#submit');
  await page.waitForURL('**/ui/#/connectors/' + name);
  await page.locator('h1 .badge[data-state="RUNNING"]').waitFor({ timeout: LONG });

  step('see its leases appear in the timeline');
  await page.locator('#timeline g.lease[data-status="succeeded"]').first().waitFor({ timeout: LONG });
  await page.waitForFunction(() => document.querySelector('#cost-total') && document.querySelector('#cost-total').textContent !== '$0', null, { timeout: LONG });
  await page.locator('#lag tr[data-partition^="orders-"]').first().waitFor({ timeout: LONG });
  await page.screenshot({ path: path.join(shots, 'connector.png'), fullPage: true });

  step('pause and resume');
  await page.click('#pause');
  await page.click('#confirm-ok');
  await page.locator('h1 .badge[data-state="PAUSED"]').waitFor({ timeout: LONG });
  await page.click('#resume');
  await page.locator('h1 .badge[data-state="RUNNING"]').waitFor({ timeout: LONG });

  step('edit the configuration');
  await page.click('#edit');
  await field('file').locator('input').waitFor();
  assert(await field('file').locator('input').inputValue() === sinkFile, 'edit form shows the file');
  assert(await field('name').locator('input').evaluate((el) => el.readOnly), 'the name cannot be edited');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.waitForURL('**/ui/#/connectors/' + name);
  await page.click('#edit');
  await page.locator('details[data-group="Error Handling"] > summary').click();
  await field('errors.tolerance').locator('input').waitFor();
  await field('errors.tolerance').locator('input').fill('sometimes');
  await field('errors.tolerance').locator('.error', { hasText: 'errors.tolerance' }).waitFor();
  await field('errors.tolerance').locator('input').fill('all');
  await page.waitForFunction(() => document.querySelector('.field[data-key="errors.tolerance"] .error').textContent === '');
  await page.click('#submit');
  await page.waitForURL('**/ui/#/connectors/' + name);
  await page.locator('#config td', { hasText: 'errors.tolerance' }).waitFor();
  const saved = await (await page.request.get(base + `connectors/${name}/config`)).json();
  assert(saved['errors.tolerance'] === 'all' && saved.file === sinkFile, 'edited configuration saved: ' + JSON.stringify(saved));
  await page.locator('h1 .badge[data-state="RUNNING"]').waitFor({ timeout: LONG });

  step('stop and edit the offsets');
  await page.locator('#stop').waitFor();
  await page.click('#stop');
  await page.click('#confirm-ok');
  await page.locator('h1 .badge[data-state="STOPPED"]').waitFor({ timeout: LONG });
  await page.locator('#offsets-save:enabled').waitFor();
  await page.waitForFunction(() => {
    try { return JSON.parse(document.querySelector('#offsets-text').value).offsets.length > 0; } catch (e) { return false; }
  }, null, { timeout: LONG });
  const offsets = JSON.parse(await page.locator('#offsets-text').inputValue());
  for (const o of offsets.offsets) o.offset = { kafka_offset: 1 };
  await page.locator('#offsets-text').fill(JSON.stringify(offsets, null, 2));
  await page.click('#offsets-save');
  await page.locator('#offsets-msg', { hasText: 'altered successfully' }).waitFor({ timeout: LONG });
  const after = await (await page.request.get(base + `connectors/${name}/offsets`)).json();
  assert(after.offsets.length === offsets.offsets.length && after.offsets.every((o) => o.offset.kafka_offset === 1),
    'offsets altered to 1: ' + JSON.stringify(after));
  await page.screenshot({ path: path.join(shots, 'offsets.png'), fullPage: true });

  step('delete');
  await page.click('#delete');
  await page.click('#confirm-ok');
  await page.waitForURL(/\/ui\/#\/$/);
  await page.locator('tr[data-connector="orders-datagen"]').waitFor();
  await page.waitForFunction((n) => !document.querySelector(`tr[data-connector="${n}"]`), name, { timeout: LONG });
  const gone = await page.request.get(base + 'connectors/' + name);
  assert(gone.status() === 404, 'deleted connector answers 404, got ' + gone.status());

  step('a narrow screen');
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto(url + '#/connectors/orders-datagen');
  await page.locator('#timeline g.lease').first().waitFor({ timeout: LONG });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `no horizontal scrolling on a 375 px screen (overflow ${overflow} px)`);
  await page.screenshot({ path: path.join(shots, 'narrow.png'), fullPage: true });

  step('the overview with leases, lag and cost');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(url);
  await page.locator('tr[data-connector="orders-datagen"] .badge[data-state="succeeded"]').waitFor({ timeout: LONG });
  await page.waitForFunction(() => /[1-9]/.test(document.querySelector('#last-hour dd').textContent), null, { timeout: LONG });
  await page.screenshot({ path: path.join(shots, 'overview-live.png'), fullPage: true });

  assert(consoleErrors.length === 0, 'no JavaScript errors: ' + consoleErrors.join('; '));
  console.log('PASS');
} finally {
  await browser.close();
}
