#!/usr/bin/env node
// Where a cold load's time goes, per request, as Chromium sees it (CDP Network timing), for one page
// URL: when requests are issued (the import graph's waves), how long each waits for a connection,
// for its response headers and for its body.
// Needs the stack and the proxy up (see README.md); Chromium is $CHROMIUM (lib/chromium.sh: the
// harness's HOME and, with PL_NETNS, the network namespace).
//
//   CHROMIUM=lib/chromium.sh node diag.mjs https://10.231.0.1:8080 [loads=3]
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const url = process.argv[2];
const loads = Number(process.argv[3] || 3);
if (!url) { console.error('usage: node diag.mjs URL [loads]'); process.exit(2); }
const q = (xs, p) => { const v = [...xs].sort((a, b) => a - b); return v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))] : NaN; };
const f = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pageload-diag-'));
const ctx = await chromium.launchPersistentContext(dir, {
  executablePath: process.env.CHROMIUM, headless: true, timeout: 30000,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-proxy-server'],
});
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let reqs = new Map();
  cdp.on('Network.requestWillBeSent', (e) => { if (/^https?:/.test(e.request.url)) reqs.set(e.requestId, { url: e.request.url, sent: e.timestamp }); });
  cdp.on('Network.responseReceived', (e) => { const r = reqs.get(e.requestId); if (r) { r.timing = e.response.timing; r.proto = e.response.protocol; r.conn = e.response.connectionId; } });
  cdp.on('Network.loadingFinished', (e) => { const r = reqs.get(e.requestId); if (r) { r.done = e.timestamp; r.bytes = e.encodedDataLength; } });
  const go = async () => {
    await page.goto(url, { waitUntil: 'load', timeout: 60000 });
    await page.waitForFunction(() => window.__ready, null, { timeout: 60000 });
  };
  await go(); // warm-up, as measure.mjs does
  for (let i = 1; i <= loads; i++) {
    reqs = new Map();
    await go();
    await new Promise((r) => setTimeout(r, 100));
    const nav = await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventStart);
    const list = [...reqs.values()].filter((r) => r.timing && r.done);
    const t0 = Math.min(...list.map((r) => r.sent));
    const queued = [], wait = [], body = [], sentAt = [];
    let connects = 0;
    for (const r of list) {
      const t = r.timing;
      sentAt.push((r.sent - t0) * 1000);
      queued.push((t.requestTime - r.sent) * 1000 + t.sendStart);
      wait.push(t.receiveHeadersEnd - t.sendEnd);
      body.push((r.done - t.requestTime) * 1000 - t.receiveHeadersEnd);
      if (t.connectStart >= 0) connects += 1;
    }
    const waves = [];
    for (const s of sentAt) waves[Math.floor(s / 100)] = (waves[Math.floor(s / 100)] || 0) + 1;
    const last = Math.max(...list.map((r) => (r.done - t0) * 1000));
    console.log(`load ${i}: load event ${f(nav)} ms, last response ${f(last)} ms, ${list.length} requests over ${new Set(list.map((r) => r.conn)).size} connection(s) (${[...new Set(list.map((r) => r.proto))].join(',')}), ${connects} new connection(s)`);
    console.log(`  per request ms, median / p90 / max: queued for a connection ${f(q(queued, 0.5))} / ${f(q(queued, 0.9))} / ${f(q(queued, 1))}; request sent -> headers ${f(q(wait, 0.5))} / ${f(q(wait, 0.9))} / ${f(q(wait, 1))}; body ${f(q(body, 0.5))} / ${f(q(body, 0.9))} / ${f(q(body, 1))}`);
    console.log(`  requests issued per 100 ms since the first: ${Array.from(waves, (n) => n || 0).join(' ')}`);
  }
} finally {
  await ctx.close().catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
}
