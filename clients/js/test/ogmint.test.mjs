// Tests of the JS kit: the shared vectors, and (when OGMINT_URL is set) a live server.
// Run: node --test clients/js/test/  (make test runs it through tests/integration/test_kits_http.py)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { createServer } from "node:http";

import {
  brands,
  canonicalQuery,
  createClient,
  expiry,
  imageUrl,
  OgmintApiError,
  decodeQuery,
  signature,
  signUrl,
  verifyWebhook,
  WebhookVerificationError,
} from "ogmint";

// OGMINT_VECTORS: where the shared vectors are when these tests run from an installed package.
const VECTORS = JSON.parse(
  readFileSync(process.env.OGMINT_VECTORS ?? new URL("../../test-vectors.json", import.meta.url)),
);
const { kid: KID, secret: SECRET } = VECTORS;

for (const v of VECTORS.vectors) {
  test(`signUrl: ${v.name}`, async () => {
    const url = await signUrl("https://og.example.com/", v.params, { kid: KID, secret: SECRET, exp: v.exp });
    assert.equal(url, `https://og.example.com/api/og?${v.signed_query}`);
    assert.equal(await signature(SECRET, v.canonical), v.sig);
    if (v.bucket) {
      const { now, bucket } = v;
      const bucketed = await signUrl("https://og.example.com", v.params, {
        kid: KID,
        secret: SECRET,
        expiresIn: v.expires_in,
        bucket,
        now,
      });
      assert.equal(bucketed, url);
    }
  });
  test(`canonicalQuery of another encoder's query: ${v.name}`, () => {
    assert.equal(canonicalQuery(decodeQuery(v.query)), v.canonical);
    assert.equal(canonicalQuery(decodeQuery(v.signed_query)), v.canonical);
  });
}

test("signUrl takes a query string, a Map and URLSearchParams alike", async () => {
  const v = VECTORS.vectors.find((x) => x.name === "spaces as + and %20");
  const key = { kid: KID, secret: SECRET };
  const expected = `https://og.example.com/api/og?${v.signed_query}`;
  const query = v.query.split("&").filter((p) => !/^(kid|sig)=/.test(p)).join("&");
  assert.equal(await signUrl("https://og.example.com/api/og", query, key), expected);
  assert.equal(await signUrl("https://og.example.com", new Map(v.params), key), expected);
  assert.equal(await signUrl("https://og.example.com", new URLSearchParams(v.params), key), expected);
});

test("no exp unless asked; buckets round exp up, so URLs stay the same within a bucket", async () => {
  const key = { kid: KID, secret: SECRET };
  const plain = await signUrl("https://og.example.com", { template: "blog", title: "Stable" }, key);
  assert.ok(!plain.includes("exp="));
  assert.equal(plain, await signUrl("https://og.example.com", { title: "Stable", template: "blog" }, key));
  const day = 86400;
  assert.equal(expiry({ expiresIn: 30 * day, bucket: day, now: 10 * day + 1 }), 41 * day);
  assert.equal(expiry({ expiresIn: 30 * day, bucket: day, now: 11 * day - 1 }), 41 * day);
  assert.equal(expiry({ exp: 41 * day, bucket: day }), 41 * day);
  assert.equal(expiry({}), undefined);
  assert.throws(() => expiry({ bucket: day }), /bucket needs/);
  assert.throws(() => expiry({ exp: 1, expiresIn: 1 }), /not both/);
  assert.throws(() => expiry({ exp: 10, bucket: 0 }), /bucket/);
  assert.equal(imageUrl("https://x/", { title: "a b", n: 3, x: null }), "https://x/api/og?n=3&title=a%20b");
});

test("exp as a Date is Unix seconds", async () => {
  const v = VECTORS.vectors.find((x) => x.exp);
  const url = await signUrl("https://og.example.com", v.params, {
    kid: KID,
    secret: SECRET,
    exp: new Date(v.exp * 1000 + 999),
  });
  assert.ok(url.endsWith(v.signed_query));
});

for (const r of VECTORS.refused.filter((x) => x.name.startsWith("repeated"))) {
  test(`refused: ${r.name}`, () => {
    if (r.expect.field === "sig") return; // sig is left out before sorting; the server counts it
    assert.throws(() => canonicalQuery(decodeQuery(r.query)), /repeated/);
  });
}

test("signUrl refuses a repeated parameter and reserved names", async () => {
  const key = { kid: KID, secret: SECRET };
  await assert.rejects(signUrl("https://x", "title=a&title=b", key), /repeated/);
  await assert.rejects(signUrl("https://x", { title: "a", sig: "b" }, key), /set by signUrl/);
  await assert.rejects(signUrl("https://x", { title: "a" }, { kid: KID }), /secret/);
  await assert.rejects(signUrl("https://x", { title: "a" }, { ...key, exp: 1.5 }), /exp/);
});

for (const w of VECTORS.webhooks) {
  test(`verifyWebhook: ${w.name}`, async () => {
    const check = verifyWebhook(w.body, w.headers, w.secret, { now: w.now });
    if (w.valid) assert.deepEqual(await check, JSON.parse(w.body));
    else await assert.rejects(check, WebhookVerificationError);
  });
}

test("verifyWebhook takes bytes and a Headers object", async () => {
  const w = VECTORS.webhooks[1];
  const headers = new Headers(w.headers);
  const body = new TextEncoder().encode(w.body);
  assert.deepEqual(await verifyWebhook(body, headers, w.secret, { now: w.now }), JSON.parse(w.body));
});

// --- against a live server (tests/integration/test_kits_http.py sets these) ------------------
const live = process.env.OGMINT_URL;

test("live: a URL signed by this kit renders for the key's user, with no headers", { skip: !live }, async () => {
  const key = { kid: process.env.OGMINT_KID, secret: process.env.OGMINT_SECRET };
  const url = await signUrl(live, { template: "blog", title: "Signed by the JS kit: C++ & ünï 🚀" }, {
    ...key,
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  const ok = await fetch(url);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("content-type"), "image/png");
  assert.equal(ok.headers.get("x-ratelimit-limit"), null); // public: no signer's plan or usage
  const tampered = await fetch(url.replace("JS+kit", "JS+kip").replace("JS%20kit", "JS%20kip"));
  assert.equal(tampered.status, 403);
  assert.equal((await tampered.json()).code, "invalid_signature");
  const expired = await fetch(await signUrl(live, { template: "blog", title: "Old" }, { ...key, exp: 1 }));
  assert.equal(expired.status, 403);
  assert.equal((await expired.json()).code, "signature_expired");
});

test("live: a delivery captured from the server verifies", { skip: !process.env.OGMINT_WEBHOOK_CAPTURE }, async () => {
  const capture = JSON.parse(readFileSync(process.env.OGMINT_WEBHOOK_CAPTURE));
  const body = Buffer.from(capture.body_base64, "base64");
  const event = await verifyWebhook(body, capture.headers, capture.secret);
  assert.equal(event.event, "render.completed");
  const tampered = Buffer.concat([body, Buffer.from(" ")]);
  await assert.rejects(verifyWebhook(tampered, capture.headers, capture.secret), WebhookVerificationError);
});

test("live: brand CRUD with this kit", { skip: !(live && process.env.OGMINT_API_KEY) }, async () => {
  const pace = () => new Promise((resolve) => setTimeout(resolve, 250)); // the 5/s burst limit
  const book = brands(live, process.env.OGMINT_API_KEY);
  const made = await book.create("JS kit", { bgColor: "#FFF", palette: "paper" });
  assert.match(made.id, /^brand_[0-9A-Za-z]{12}$/);
  assert.equal(made.bgColor, "ffffff");
  await pace();
  assert.deepEqual((await book.list()).map((b) => b.id)[0], made.id);
  await pace();
  assert.deepEqual(await book.get(made.id), made);
  await pace();
  const updated = await book.update(made.id, "JS kit 2", { textColor: "222" });
  assert.equal(updated.name, "JS kit 2");
  assert.equal(updated.textColor, "222222");
  assert.equal(updated.bgColor, null);
  await pace();
  await book.delete(made.id);
  await pace();
  const gone = await book.get(made.id).catch((e) => e);
  assert.ok(gone instanceof OgmintApiError);
  assert.equal(gone.status, 404);
  assert.equal(gone.code, "brand_not_found");
  await pace();
  const bad = await book.create("", { palette: "neon" }).catch((e) => e);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.details.map((d) => d.field).sort(), ["name", "palette"]);
});

// --- every V2 call against a local server (a real socket) answering as SPEC §3.1 says --------
async function scripted(answers) {
  const seen = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      const [status, doc, headers = {}] = answers.shift() ?? [500, { code: "x" }];
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(doc));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

const stored = (slug) => ({
  slug,
  url: `https://og/i/${slug}`,
  template: "blog",
  format: "png",
  width: 1200,
  height: 630,
  bytes: 4242,
  createdAt: "2026-12-07T10:00:00.000Z",
});

test("createClient: renders list/iterate/get/delete, batch, validate, usage, retries", async () => {
  const layout = { lines: ["A fitted", "title"], fontSize: 56, truncated: false };
  const bad = { success: false, error: "palette", code: "invalid_parameters", details: [{ field: "palette", message: "x" }] };
  const srv = await scripted([
    [200, { success: true, renders: [stored("aaaaaaaa")], nextCursor: "c/2+" }],
    [503, { success: false }, { "retry-after": "0" }],
    [200, { success: true, renders: [stored("bbbbbbbb")], nextCursor: null }],
    [200, { success: true, render: { ...stored("aaaaaaaa"), params: { title: "Hi" }, deliveries: [] } }],
    [200, { success: true }],
    [404, { success: false, error: "no", code: "render_not_found", details: [] }],
    [200, { success: true, results: [{ slug: "s", url: "u", status: 201 }, { ...bad, status: 400 }] }],
    [200, { success: true, width: 1200, height: 630, fields: { title: layout } }],
    [200, { success: true, plan: "free", quota: 100, used: 3, remaining: 97, resetsAt: "2027-01-01T00:00:00.000Z", days: [] }],
    [429, { success: false, error: "quota", code: "rate_limited", details: [] }, { "retry-after": "900000" }],
  ]);
  try {
    const og = createClient(srv.url, "ogm_live_k");
    const slugs = [];
    for await (const r of og.renders.iterate({ limit: 1 })) slugs.push(r.slug);
    assert.deepEqual(slugs, ["aaaaaaaa", "bbbbbbbb"]);
    assert.deepEqual(srv.seen.map((s) => s.url).slice(0, 3), [
      "/api/v2/renders?limit=1",
      "/api/v2/renders?limit=1&cursor=c%2F2%2B",
      "/api/v2/renders?limit=1&cursor=c%2F2%2B",
    ]);
    assert.equal(srv.seen[0].headers["x-api-key"], "ogm_live_k");
    assert.deepEqual((await og.renders.get("aaaaaaaa")).params, { title: "Hi" });
    await og.renders.delete("aaaaaaaa");
    assert.deepEqual([srv.seen.at(-1).method, srv.seen.at(-1).url], ["DELETE", "/api/v2/renders/aaaaaaaa"]);
    const gone = await og.renders.get("../x").catch((e) => e);
    assert.ok(gone instanceof OgmintApiError);
    assert.deepEqual([gone.status, gone.code], [404, "render_not_found"]);
    assert.equal(srv.seen.at(-1).url, "/api/v2/renders/..%2Fx");
    const results = await og.batch([{ title: "a" }, { title: "b", palette: "neon" }]);
    assert.deepEqual(JSON.parse(srv.seen.at(-1).body), { items: [{ title: "a" }, { title: "b", palette: "neon" }] });
    assert.deepEqual(results.map((r) => r.status), [201, 400]);
    await assert.rejects(og.batch([]), /1 to 100/);
    assert.deepEqual(await og.validate({ title: "A fitted title" }), { width: 1200, height: 630, fields: { title: layout } });
    assert.equal((await og.usage()).remaining, 97);
    const quota = await og.render({ title: "x" }).catch((e) => e);
    assert.deepEqual([quota.status, quota.code, quota.retryAfter], [429, "rate_limited", 900000]);
  } finally {
    await srv.close();
  }
});

test("the .d.ts declares every export, and package.json points at both files", () => {
  const entry = new URL(import.meta.resolve("ogmint"));
  const dts = readFileSync(new URL("ogmint.d.ts", entry), "utf8");
  const pkg = JSON.parse(readFileSync(new URL("package.json", entry), "utf8"));
  assert.equal(pkg.exports["."].types, "./ogmint.d.ts");
  assert.equal(pkg.exports["."].default, "./ogmint.mjs");
  return import("ogmint").then((kit) => {
    for (const name of Object.keys(kit)) {
      assert.match(dts, new RegExp(`export (declare )?(function|class|const) ${name}\\b`), name);
    }
  });
});

test("live: createClient renders, dedups, types its errors, manages templates and keys", { skip: !(live && process.env.OGMINT_API_KEY) }, async () => {
  const pace = () => new Promise((resolve) => setTimeout(resolve, 250)); // the 5/s burst limit
  const og = createClient(live, process.env.OGMINT_API_KEY);
  const title = `Rendered by the JS kit ${Date.now()}`;
  const first = await og.render({ template: "blog", title });
  assert.match(first.slug, /^[A-Za-z0-9]{8}$/);
  assert.equal(first.url, `${live}/i/${first.slug}`);
  const image = await fetch(first.url);
  assert.equal(image.headers.get("content-type"), "image/png");
  await pace();
  const again = await og.render({ template: "blog", title });
  assert.deepEqual([again.slug, again.cached], [first.slug, true]);
  await pace();
  const bad = await og.render({ template: "blog", title: "x", palette: "neon" }).catch((e) => e);
  assert.ok(bad instanceof OgmintApiError);
  assert.deepEqual([bad.status, bad.code, bad.details.map((d) => d.field)], [400, "invalid_parameters", ["palette"]]);
  await pace();
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template" ' +
    'width="1200" height="630" viewBox="0 0 1200 630"><rect width="1200" height="630" fill="{{bg}}"/>' +
    '<og:text field="title" x="80" y="170" width="1040" height="280" max-size="72" min-size="40"/></svg>';
  const square = svg.replaceAll("1200", "1080").replaceAll("630", "1080");
  const made = await og.templates.create({ svg, name: "JS kit card", sizes: { square } });
  assert.match(made.id, /^custom_/);
  assert.deepEqual(made.sizes, ["og", "twitter", "linkedin", "square"]);
  await pace();
  const got = await og.templates.get(made.id);
  assert.deepEqual([got.svg, got.sizeSvgs], [svg, { square }]);
  await pace();
  const png = await og.templates.preview({ svg });
  assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  await pace();
  await og.templates.delete(made.id);
  await pace();
  const key = await og.signingKeys.create();
  assert.match(key.id, /^sk_/);
  await pace();
  assert.ok((await og.signingKeys.list()).some((k) => k.id === key.id));
  const url = await signUrl(live, { template: "blog", title: "Signed with a new key" }, { kid: key.id, secret: key.secret });
  assert.equal((await fetch(url)).status, 200);
  await pace();
  await og.signingKeys.revoke(key.id);
  await pace();
  assert.ok(!(await og.signingKeys.list()).some((k) => k.id === key.id));
});
