import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { hasDotnet, requireClients } from './dotnet.js';
import { repoRoot } from './paths.js';

/** Debian's Chromium (scripts/install-test-deps.sh); PAWKET_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.PAWKET_CHROMIUM ?? '/usr/bin/chromium';
const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Whether a browser story runs: Chromium and the dotnet CLI, plus what else the suite names. */
export function requireBrowserClients(suite: string, missing: readonly string[] = []): { skip: boolean } {
  return requireClients(suite, [...(existsSync(CHROMIUM) ? [] : [`chromium (${CHROMIUM})`]), ...(hasDotnet ? [] : ['dotnet']), ...missing]);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: BROWSER_ARGS });
}

/** A small window, so the pictures of the pages stay readable in the docs. */
export const VIEWPORT = { width: 1000, height: 720 };

/**
 * Pictures of the pages for docs/screenshots/, taken only with PAWKET_SCREENSHOTS=1 (so test runs do not rewrite the
 * tracked files). What changes from run to run is made the same first, in the page's text: times (today's become
 * 2026-03-02 09:41, later ones 90 days on), loopback URLs, key ids and a new key's secret.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.PAWKET_SCREENSHOTS !== '1') return;
  const dir = join(repoRoot, 'docs', 'screenshots');
  await mkdir(dir, { recursive: true });
  await page.evaluate((now) => {
    const later = (y: string, m: string, d: string) => Date.UTC(Number(y), Number(m) - 1, Number(d)) > now + 86_400_000;
    const steady = (text: string) =>
      text
        .replace(/(\d{4})-(\d{2})-(\d{2})(?:([ T])\d{2}:\d{2}(:\d{2})?)?/g, (_m, y: string, mo: string, d: string, sep?: string, sec?: string) =>
          `${later(y, mo, d) ? '2026-05-31' : '2026-03-02'}${sep ? `${sep}09:41${sec ? ':00' : ''}` : ''}`)
        .replace(/http:\/\/127\.0\.0\.1:\d+/g, 'https://login.contoso.example')
        .replace(/\bk[0-9a-f]{12}\b/g, 'k3f9a0c21d7e4');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) node.textContent = steady(node.textContent ?? '');
    for (const secret of document.querySelectorAll('code.new-key')) secret.textContent = 'EXAMPLE-KEY-shown-once-0123456789abcdefghij';
  }, Date.now());
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/**
 * Steps of one story, each building on the ones before: once a step fails, every later step fails too (it is not
 * skipped), naming the step it waited for, so a report shows where the story broke.
 */
export function storySteps(): (name: string, timeoutMs: number, body: () => Promise<void>) => void {
  let broken: string | null = null;
  return (name, timeoutMs, body) =>
    it(name, { timeout: timeoutMs }, async () => {
      if (broken !== null) throw new Error(`not tried: the earlier step "${broken}" failed`);
      try {
        await body();
      } catch (err) {
        broken = name;
        throw err;
      }
    });
}

/** The OpenID Connect provider as Pawket's `signIn.providers` names it. */
export const PROVIDER = { name: 'contoso', label: 'Contoso ID' } as const;

/**
 * Signs `user` in as a person would: Pawket's "Sign in" link, the provider's button, the provider's own sign-in page
 * (typing the user), back on Pawket at `returnTo` with the person's name in the header.
 */
export async function signInThroughProvider(page: Page, baseUrl: string, issuer: string, user: string, expectName: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.locator('header').getByRole('link', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/signin');
  await page.getByRole('link', { name: `Sign in with ${PROVIDER.label}` }).click();
  await page.waitForURL((u) => u.origin === issuer, { timeout: 15_000 }).catch(async (err: unknown) => {
    const text = (await page.locator('body').textContent().catch(() => ''))?.replace(/\s+/g, ' ').trim().slice(0, 400);
    throw new Error(`"Sign in with ${PROVIDER.label}" should lead to the provider's page; the browser is at ${page.url()}, showing: ${text}`, { cause: err });
  });
  await page.getByLabel('User').pressSequentially(user, { delay: 15 });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.origin === new URL(baseUrl).origin, { timeout: 15_000 }).catch(async (err: unknown) => {
    const text = (await page.locator('body').textContent().catch(() => ''))?.replace(/\s+/g, ' ').trim().slice(0, 400);
    throw new Error(`the provider should send ${user} back to Pawket; the browser is at ${page.url()}, showing: ${text}`, { cause: err });
  });
  await expect
    .poll(() => page.locator('header .account').textContent(), { message: `the header should show ${expectName} signed in (at ${page.url()})` })
    .toContain(expectName);
}

/** The value of the session cookie the browser holds for `baseUrl`. */
export async function sessionCookie(page: Page, baseUrl: string): Promise<{ value: string; httpOnly: boolean; sameSite: string }> {
  const cookie = (await page.context().cookies(baseUrl)).find((c) => c.name === 'pawket_session');
  if (!cookie) throw new Error(`no pawket_session cookie for ${baseUrl}`);
  return cookie;
}

/**
 * Creates a key on "My keys" with the given name and scopes (besides the form's defaults) on the default feed, and
 * reads the secret the page shows once.
 */
export async function createKeyOnPage(page: Page, baseUrl: string, name: string, scopes: readonly string[]): Promise<string> {
  await page.goto(`${baseUrl}/account/keys`);
  expect(new URL(page.url()).pathname, 'My keys should open for a signed-in person').toBe('/account/keys');
  await page.getByLabel('Name').fill(name);
  for (const scope of scopes) await page.getByRole('checkbox', { name: new RegExp(`^${scope}:`) }).check();
  await page.getByRole('checkbox', { name: /^default\b/ }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.locator('code.new-key');
  await secret.waitFor({ timeout: 15_000 });
  const key = (await secret.textContent())?.trim() ?? '';
  expect(key.length, 'the new key is shown on the page').toBeGreaterThan(20);
  return key;
}
