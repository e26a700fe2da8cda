import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { CHROMIUM_PATH } from '../support/chromium-setup.js';

// GraphiQL as a user behind a firewall gets it: the production listener on a real socket, a real
// browser, and every request that leaves loopback refused. Anything the page needs from the internet
// (a script, a stylesheet, a font, a worker) would keep it from rendering, and is listed.

const skipReason = inject('chromiumSkipReason');
if (skipReason) console.info(`GraphiQL browser test skipped: ${skipReason}`);

function leavesLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  // data: and blob: (GraphiQL's inlined workers) never reach the network.
  if (protocol === 'data:' || protocol === 'blob:') return false;
  return !['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

function appears(locator: Locator): Promise<boolean> {
  return locator.waitFor({ timeout: 30_000 }).then(
    () => true,
    () => false,
  );
}

async function replaceText(page: Page, editor: Locator, text: string): Promise<void> {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  // Typed key by key, Monaco would accept completions. It still closes the brackets and quotes the
  // inserted text opens, after the cursor: those go.
  await page.keyboard.insertText(text);
  await page.keyboard.press('Shift+ControlOrMeta+End');
  await page.keyboard.press('Delete');
}

describe.skipIf(skipReason)('GraphiQL in a browser without internet access', () => {
  let app: TestApp;
  let userDataDir: string;
  let browser: BrowserContext;
  const blocked: string[] = [];

  beforeAll(async () => {
    app = await createTestApp();
    userDataDir = await mkdtemp(join(tmpdir(), 'tasks-api-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      serviceWorkers: 'block',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await browser.route('**/*', (route) => {
      const url = route.request().url();
      if (!leavesLoopback(url)) return route.continue();
      blocked.push(url);
      return route.abort('internetdisconnected');
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    await app?.close();
  });

  it('renders the editor with the default query and runs a query, all from loopback', async () => {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const signedUp = app.signUp('graphiql');
    // The test app's own server: the listener npm start serves.
    await page.goto(`${app.origin}/graphql`);

    // Monaco renders spaces as no-break spaces, so match words of the default query, not whole lines.
    const queryEditor = page.locator('.graphiql-query-editor .view-lines');
    const rendered = await appears(queryEditor.filter({ hasText: 'MyTasks' }));
    expect(rendered, `GraphiQL did not render its editor; requests blocked: ${JSON.stringify(blocked)}`).toBe(true);
    expect(await page.locator('#root').innerText()).not.toMatch(/Loading/);
    expect(await page.title()).toBe('Tasks API');

    // As the README says: a token pasted into the Headers pane, then a query run from the editor.
    const { email, token } = await signedUp;
    await replaceText(page, page.locator('section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .view-lines'), JSON.stringify({ Authorization: `Bearer ${token}` }));
    await replaceText(page, queryEditor, '{ __typename me { email } }');
    // With the default query's two operations the button opens a menu to pick one; it runs the
    // document once GraphiQL has parsed the new one (after a debounce).
    await page.locator('.graphiql-execute-button:not([aria-haspopup])').click();
    const result = page.locator('.graphiql-response .view-lines');
    const answered = await appears(result.filter({ hasText: '"__typename"' }).filter({ hasText: `"${email}"` }));
    expect(answered, `no result shown: ${await result.innerText().catch(String)}; requests blocked: ${JSON.stringify(blocked)}`).toBe(true);

    expect(blocked).toEqual([]);
  }, 90_000);
});
