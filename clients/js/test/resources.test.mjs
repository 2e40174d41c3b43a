// The JS kit's V2 resource calls (SPEC §3.1) against a live server: OGMINT_URL, OGMINT_API_KEY.
// Run by tests/integration/test_kits_v2_http.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createClient, OgmintApiError } from "ogmint";

const live = process.env.OGMINT_URL;

test("live: render, list, iterate, get, validate, batch, usage, delete", { skip: !live }, async () => {
  const og = createClient(live, process.env.OGMINT_API_KEY);
  const stamp = Date.now();
  const first = await og.render({ template: "blog", title: `JS resources ${stamp} 1` });
  const second = await og.render({ template: "blog", title: `JS resources ${stamp} 2` });
  const page = await og.renders.list({ limit: 1 });
  assert.equal(page.renders.length, 1);
  assert.equal(page.renders[0].slug, second.slug); // newest first
  assert.ok(page.nextCursor);
  const all = [];
  for await (const r of og.renders.iterate({ limit: 1 })) all.push(r.slug);
  assert.deepEqual(all.slice(0, 2), [second.slug, first.slug]);
  const one = await og.renders.get(first.slug);
  assert.equal(one.params.title, `JS resources ${stamp} 1`);
  assert.ok(Array.isArray(one.deliveries));
  const fit = await og.validate({ template: "blog", title: "Does this title fit?" });
  assert.deepEqual([fit.width, fit.height], [1200, 630]);
  assert.ok(fit.fields.title.lines.length >= 1 && fit.fields.title.fontSize > 0);
  const results = await og.batch([
    { template: "blog", title: `JS batch ${stamp}` },
    { template: "blog", title: `JS batch ${stamp}` },
    { template: "blog", title: "x", palette: "neon" },
  ]);
  assert.deepEqual(results.map((r) => r.status).slice(2), [400]);
  assert.equal(results[0].slug, results[1].slug);
  const usage = await og.usage();
  assert.ok(usage.used >= 3 && Array.isArray(usage.days));
  await og.renders.delete(first.slug);
  const gone = await og.renders.get(first.slug).catch((e) => e);
  assert.ok(gone instanceof OgmintApiError);
  assert.deepEqual([gone.status, gone.code], [404, "render_not_found"]);
  assert.equal((await fetch(first.url)).status, 404);
});
