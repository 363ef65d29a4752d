/**
 * Sessions across nodes: two Pawket processes on one database (a shared SQLite file and data dir, or PostgreSQL + S3
 * in that pass) behind nginx, which sends the sign-in routes to node A and everything else to node B. Chromium signs
 * in through A (the provider's callback lands there), then opens "My keys" and makes a key through B, `dotnet nuget
 * push` publishes with it through B, and signing out on B ends the session on A too.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { backend, freshBackendEnv } from '../support/backend.js';
import { nginxBinary, startLoadBalancer, type TempNginx } from '../support/nginx.js';
import { buildNupkg } from '../support/nupkg.js';
import { createKeyOnPage, launchBrowser, PROVIDER, requireBrowserClients, sessionCookie, signInThroughProvider, storySteps, VIEWPORT } from './support/browser-story.js';
import { createNuGetSandbox, describeRun, run, writePawketOnlyConfig } from './support/dotnet.js';
import { startOidcProvider, type OidcTestProvider } from '../support/oidc-provider.js';
import { startPawket, type PawketServer } from './support/server.js';

const { skip } = requireBrowserClients('sign-in across two nodes behind nginx', nginxBinary ? [] : ['nginx']);

const CLIENT_SECRET = 'multi-node-sign-in-secret';
const STEP = 120_000;

describe.skipIf(skip)(`a session started on one node works on another (${backend})`, () => {
  let work: string;
  let idp: OidcTestProvider;
  let nodeA: PawketServer;
  let nodeB: PawketServer;
  let lb: TempNginx;
  let browser: Browser;
  let page: Page;
  /** Which node answered each response the browser got through nginx, by path. */
  const answeredBy: Array<{ path: string; node: string }> = [];
  let cookie = '';
  let key = '';

  const hostOf = (s: PawketServer) => new URL(s.baseUrl).host;
  const nodeOf = (path: string) => answeredBy.filter((a) => a.path === path).map((a) => (a.node === hostOf(nodeA) ? 'A' : a.node === hostOf(nodeB) ? 'B' : a.node));

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-sign-in-nodes-'));
    idp = await startOidcProvider({ users: [{ sub: 'dana', preferred_username: 'dana', name: 'Dana Scully', email: 'dana@contoso.test', groups: [] }] });
    const signIn = { providers: [{ ...PROVIDER, issuer: idp.issuer, clientId: 'pawket', clientSecret: CLIENT_SECRET }], defaultRole: 'contributor' };
    // One database for both nodes: on SQLite one data dir (its database file and package files), else one
    // PostgreSQL database and bucket prefix.
    const shared = { ...(await freshBackendEnv()), PAWKET_SIGN_IN: JSON.stringify(signIn), PAWKET_TRUST_PROXY: '127.0.0.1' };
    const dataDir = backend === 'sqlite' ? join(work, 'data') : undefined;
    nodeA = await startPawket({ env: shared, ...(dataDir ? { dataDir } : {}) });
    nodeB = await startPawket({ env: shared, ...(dataDir ? { dataDir } : {}) });
    lb = await startLoadBalancer([hostOf(nodeB)], { pin: { prefix: '/signin/', upstream: hostOf(nodeA) } });
    // The redirect URI is nginx's: the browser only ever sees that address.
    idp.addClient({ client_id: 'pawket', client_secret: CLIENT_SECRET, redirect_uris: [`${lb.url}/signin/${PROVIDER.name}/callback`] });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: VIEWPORT, baseURL: lb.url })).newPage();
    page.on('response', (r) => {
      const url = new URL(r.url());
      if (url.origin === lb.url) answeredBy.push({ path: url.pathname, node: r.headers()['x-upstream'] ?? '?' });
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await lb?.stop();
    await nodeA?.stop();
    await nodeB?.stop();
    await idp?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const step = storySteps();

  step('signs in through nginx: the provider\'s callback lands on node A', STEP, async () => {
    await signInThroughProvider(page, lb.url, idp.issuer, 'dana', 'Dana Scully');
    expect(nodeOf(`/signin/${PROVIDER.name}/callback`)).toEqual(['A']);
    cookie = (await sessionCookie(page, lb.url)).value;
    // The page she landed on came from node B, already signed in.
    expect(nodeOf('/').at(-1)).toBe('B');
  });

  step('acts through node B with that session: opens "My keys" and makes a key', STEP, async () => {
    key = await createKeyOnPage(page, lb.url, 'through-b', ['push-new']);
    expect(nodeOf('/account/keys').every((n) => n === 'B'), nodeOf('/account/keys').join()).toBe(true);
  });

  step('dotnet nuget push with that key through node B publishes', STEP, async () => {
    const file = join(work, 'Contoso.Nodes.1.0.0.nupkg');
    await writeFile(file, await buildNupkg({ id: 'Contoso.Nodes', version: '1.0.0', description: 'Pushed through node B.' }));
    const sandbox = await createNuGetSandbox(join(work, 'nuget'));
    const configFile = await writePawketOnlyConfig(join(work, 'consumer'), `${lb.url}/v3/index.json`);
    const push = await run(
      'dotnet',
      ['nuget', 'push', file, '--source', `${lb.url}/v3/index.json`, '--api-key', key, '--configfile', configFile, '--force-english-output'],
      { env: { ...sandbox.env, NUGET_API_KEY: '' }, timeoutMs: STEP - 10_000 },
    );
    expect(push.code, `${describeRun(push)}\n--- node B ---\n${nodeB.output().slice(-3000)}`).toBe(0);
    const onA = await fetch(`${nodeA.baseUrl}/v3/flatcontainer/contoso.nodes/index.json`);
    expect(onA.status).toBe(200);
    expect(await onA.json()).toEqual({ versions: ['1.0.0'] });
  });

  step('signing out on node B ends the session on node A', STEP, async () => {
    const onA = () => fetch(`${nodeA.baseUrl}/account/keys`, { headers: { cookie: `pawket_session=${cookie}` }, redirect: 'manual' });
    expect((await onA()).status, 'node A knows the session before sign-out').toBe(200);
    await page.goto('/');
    await page.locator('header').getByRole('button', { name: 'Sign out' }).click();
    await page.locator('header').getByRole('link', { name: 'Sign in', exact: true }).waitFor();
    expect(nodeOf('/signout')).toEqual(['B']);
    const after = await onA();
    expect(after.status, 'node A after sign-out on node B').not.toBe(200);
  });
});
