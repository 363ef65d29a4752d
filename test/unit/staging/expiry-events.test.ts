/**
 * The staging expiry sweep's webhook events (docs/WEBHOOKS.md): `staging.expiring` once per artifact within the warning
 * window, again only after re-staging gave it a new expiry; `staging.expired` when the sweep removes it; each queued
 * for the webhooks of the feed that held the artifact, once even when sweeps run at the same moment. The sweep runs
 * in-process with a clock in the future; no worker sends the deliveries, so they wait in the queue to be read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KyselyStagingDatabase } from '../../../src/db/kysely-staging-database.js';
import type { Feed } from '../../../src/feed/feed.js';
import { sweepStaging } from '../../../src/feed/staging-sweep.js';
import { startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { createFeed } from '../ui/people-support.js';

const DAY = 86_400_000;
const ACTOR = { name: 'test', keyId: null, owner: null, address: null };
let s: TestServer;
let dev: Feed;
let devHook: number;
let defaultHook: number;
let start: number;

type Body = { event: string; feed: string; package: Record<string, unknown>; actor: { name: string; owner: string | null } };

async function stage(prefix: string, id: string, groupId?: string, description?: string): Promise<{ expires: string; owner: string }> {
  const form = new FormData();
  form.append('package', new Blob([new Uint8Array(await buildNupkg({ id, version: '1.0.0', ...(description ? { description } : {}) }))]), 'x.nupkg');
  if (groupId) form.append('groupId', groupId);
  const res = await fetch(`${s.url}${prefix}/v3/staging/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': TEST_KEY } });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return JSON.parse(text) as { expires: string; owner: string };
}

/** The events queued for a webhook, oldest first, as [event, package id]. */
async function queued(feed: Feed, webhookId: number): Promise<Body[]> {
  const { deliveries } = await feed.webhooks.show(webhookId, 1000);
  return deliveries.reverse().map((d) => JSON.parse(d.payload) as Body);
}
const summary = (bodies: Body[]) => bodies.map((b) => [b.event, b.package.id]);
const at = (days: number) => new Date(start + days * DAY);

beforeAll(async () => {
  s = await startTestServer({ webhookAllowPrivateAddresses: true });
  await createFeed(s, 'dev');
  dev = (await s.feed.hub.feed('dev'))!;
  devHook = (await dev.webhooks.create(ACTOR, { url: 'http://127.0.0.1:9/dev', events: ['staging.expiring', 'staging.expired'] })).webhook.webhookId;
  defaultHook = (await s.feed.webhooks.create(ACTOR, { url: 'http://127.0.0.1:9/default', events: ['staging.expiring', 'staging.expired'] })).webhook.webhookId;
  start = Date.now();
});
afterAll(() => s?.close());

describe('staging expiry events', () => {
  it('warns once within the window, to the feed that holds the artifact, however many sweeps run', async () => {
    const grouped = await stage('/f/dev', 'Contoso.Grouped', 'Release-7');
    await stage('/f/dev', 'Contoso.Loose');
    await stage('', 'Contoso.Home');

    await sweepStaging(s.feed, at(28));
    expect(await queued(dev, devHook)).toEqual([]);

    // Two sweeps at once (two nodes): each artifact is warned of once.
    await Promise.all([sweepStaging(s.feed, at(29.5)), sweepStaging(s.feed, at(29.5))]);
    await sweepStaging(s.feed, at(29.6));
    const devEvents = await queued(dev, devHook);
    expect(summary(devEvents).sort()).toEqual([
      ['staging.expiring', 'Contoso.Grouped'],
      ['staging.expiring', 'Contoso.Loose'],
    ]);
    expect(summary(await queued(s.feed, defaultHook))).toEqual([['staging.expiring', 'Contoso.Home']]);
    const warning = devEvents.find((b) => b.package.id === 'Contoso.Grouped')!;
    expect(warning).toMatchObject({ feed: 'dev', actor: { name: 'staging expiry sweep', owner: null } });
    expect(warning.package).toEqual({ id: 'Contoso.Grouped', version: '1.0.0', kind: 'package', owner: grouped.owner, expires: grouped.expires, group: 'Release-7' });
  });

  it('warns again after re-staging gave a new expiry, and announces each removal once', async () => {
    // Different bytes: a new expiry, and a new warning when it comes near.
    const restaged = await stage('/f/dev', 'Contoso.Loose', undefined, 'A later build');
    await sweepStaging(s.feed, at(29.7));
    expect(summary(await queued(dev, devHook)).filter(([, id]) => id === 'Contoso.Loose')).toEqual([
      ['staging.expiring', 'Contoso.Loose'],
      ['staging.expiring', 'Contoso.Loose'],
    ]);

    await Promise.all([sweepStaging(s.feed, at(31)), sweepStaging(s.feed, at(31))]);
    await sweepStaging(s.feed, at(32));
    const devEvents = await queued(dev, devHook);
    expect(summary(devEvents.filter((b) => b.event === 'staging.expired')).sort()).toEqual([
      ['staging.expired', 'Contoso.Grouped'],
      ['staging.expired', 'Contoso.Loose'],
    ]);
    expect(devEvents.find((b) => b.event === 'staging.expired' && b.package.id === 'Contoso.Loose')!.package).toEqual({
      id: 'Contoso.Loose',
      version: '1.0.0',
      kind: 'package',
      owner: restaged.owner,
      expires: restaged.expires,
      group: null,
    });
    expect(devEvents.find((b) => b.event === 'staging.expired' && b.package.id === 'Contoso.Grouped')!.package).toMatchObject({ group: 'Release-7' });
    expect(summary(await queued(s.feed, defaultHook))).toEqual([
      ['staging.expiring', 'Contoso.Home'],
      ['staging.expired', 'Contoso.Home'],
    ]);
  });

  it('keeps the warning when the expiry is set again unchanged (a sweep may warn between storing a row and that), not when it changes', async () => {
    const own = await startTestServer({ webhookAllowPrivateAddresses: true });
    try {
      const hook = (await own.feed.webhooks.create(ACTOR, { url: 'http://127.0.0.1:9/own', events: ['staging.expiring'] })).webhook.webhookId;
      const form = new FormData();
      form.append('package', new Blob([new Uint8Array(await buildNupkg({ id: 'Contoso.Kept', version: '1.0.0' }))]), 'x.nupkg');
      const res = await fetch(`${own.url}/v3/staging/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': TEST_KEY } });
      const { expires } = (await res.json()) as { expires: string };
      const rows = new KyselyStagingDatabase(own.feed.hub.shared.kysely, own.feed.scope.id);
      const inWindow = new Date(Date.parse(expires) - DAY / 2);
      await sweepStaging(own.feed, inWindow);
      await rows.setExpiry('contoso.kept', '1.0.0', expires);
      await sweepStaging(own.feed, inWindow);
      expect(summary(await queued(own.feed, hook))).toEqual([['staging.expiring', 'Contoso.Kept']]);
      // Later: warned again when that comes near.
      const later = new Date(Date.parse(expires) + DAY).toISOString();
      await rows.setExpiry('contoso.kept', '1.0.0', later);
      await sweepStaging(own.feed, inWindow);
      expect(summary(await queued(own.feed, hook))).toHaveLength(1);
      await sweepStaging(own.feed, new Date(Date.parse(later) - DAY / 2));
      expect(summary(await queued(own.feed, hook))).toEqual([
        ['staging.expiring', 'Contoso.Kept'],
        ['staging.expiring', 'Contoso.Kept'],
      ]);
    } finally {
      await own.close();
    }
  });

  it('sends no warning when the warning window is 0', async () => {
    const quiet = await startTestServer({ webhookAllowPrivateAddresses: true, stagingExpiryWarningHours: 0 });
    try {
      const hook = (await quiet.feed.webhooks.create(ACTOR, { url: 'http://127.0.0.1:9/quiet' })).webhook.webhookId;
      const form = new FormData();
      form.append('package', new Blob([new Uint8Array(await buildNupkg({ id: 'Contoso.Quiet', version: '1.0.0' }))]), 'x.nupkg');
      expect((await fetch(`${quiet.url}/v3/staging/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': TEST_KEY } })).status).toBe(201);
      await sweepStaging(quiet.feed, new Date(Date.now() + 29.9 * DAY));
      await sweepStaging(quiet.feed, new Date(Date.now() + 31 * DAY));
      expect(summary(await queued(quiet.feed, hook))).toEqual([
        ['package.staged', 'Contoso.Quiet'],
        ['staging.expired', 'Contoso.Quiet'],
      ]);
    } finally {
      await quiet.close();
    }
  });
});
