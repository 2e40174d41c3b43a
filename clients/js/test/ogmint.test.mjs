// Tests of the JS kit: the shared vectors, and (when OGMINT_URL is set) a live server.
// Run: node --test clients/js/test/  (make test runs it through tests/integration/test_kits_http.py)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  brands,
  canonicalQuery,
  OgmintApiError,
  decodeQuery,
  signature,
  signUrl,
  verifyWebhook,
  WebhookVerificationError,
} from "../ogmint.mjs";

const VECTORS = JSON.parse(readFileSync(new URL("../../test-vectors.json", import.meta.url)));
const { kid: KID, secret: SECRET } = VECTORS;

for (const v of VECTORS.vectors) {
  test(`signUrl: ${v.name}`, async () => {
    const url = await signUrl("https://og.example.com/", v.params, { kid: KID, secret: SECRET, exp: v.exp });
    assert.equal(url, `https://og.example.com/api/og?${v.signed_query}`);
    assert.equal(await signature(SECRET, v.canonical), v.sig);
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
