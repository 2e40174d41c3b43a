// The README's framework recipes (clients/js/recipes/, shown verbatim in the README), each run
// for real: the URL it builds must fetch a PNG from a live server (OGMINT_URL, OGMINT_KID,
// OGMINT_SIGNING_SECRET). No framework is installed: each recipe is called as its framework
// calls it (Next.js's generateMetadata with a Promise of params, Eleventy's config function,
// Hugo's build step, Astro's helper).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { register } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

register("./recipe-hooks.mjs", import.meta.url);

const live = process.env.OGMINT_URL && process.env.OGMINT_SIGNING_SECRET;
const recipe = (name) => new URL(`../recipes/${name}`, import.meta.url);

async function assertPng(url) {
  assert.ok(url.startsWith(`${process.env.OGMINT_URL}/api/og?`), url);
  assert.ok(!url.includes("exp="), "cache-stable: no exp unless asked for");
  const response = await fetch(url);
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal(response.headers.get("content-type"), "image/png");
  const bytes = new Uint8Array(await response.arrayBuffer());
  assert.deepEqual([...bytes.slice(1, 4)], [0x50, 0x4e, 0x47]);
}

test("Next.js App Router: generateMetadata awaits params and signs the post's image", { skip: !live }, async () => {
  const { generateMetadata } = await import(recipe("next-app-router.mjs"));
  const meta = await generateMetadata({ params: Promise.resolve({ slug: "hello" }) });
  assert.equal(meta.title, "Post hello: Grüße & C++ 🚀");
  const [image] = meta.openGraph.images;
  assert.deepEqual([image.width, image.height], [1200, 630]);
  assert.deepEqual(meta.twitter.images, [image.url]);
  await assertPng(image.url);
  // The same page gets the same URL on every request: caches hit.
  const again = await generateMetadata({ params: Promise.resolve({ slug: "hello" }) });
  assert.equal(again.openGraph.images[0].url, image.url);
});

test("Astro: ogImage signs from astro:env", { skip: !live }, async () => {
  const { ogImage } = await import(recipe("astro-og-image.mjs"));
  await assertPng(await ogImage({ title: "An Astro page", description: "Signed in frontmatter" }));
  await assertPng(await ogImage({ title: "No description" }));
});

test("Eleventy: the ogImage shortcode signs at build time", { skip: !live }, async () => {
  const { default: configure } = await import(recipe("eleventy.config.mjs"));
  const shortcodes = {};
  configure({ addAsyncShortcode: (name, fn) => (shortcodes[name] = fn) });
  await assertPng(await shortcodes.ogImage("An Eleventy post"));
});

test("Hugo: the build step writes data/og.json with a signed URL per page", { skip: !live }, async () => {
  const site = await mkdtemp(join(tmpdir(), "hugo-site-"));
  await mkdir(join(site, "content", "posts"), { recursive: true });
  await writeFile(join(site, "content", "posts", "hello.md"), '---\ntitle: "Hello from Hugo"\ndraft: false\n---\nBody\n');
  await writeFile(join(site, "content", "about.md"), '+++\ntitle = "About us"\n+++\nBody\n');
  await promisify(execFile)(process.execPath, [fileURLToPath(recipe("hugo-og-images.mjs"))], { cwd: site });
  const urls = JSON.parse(await readFile(join(site, "data", "og.json"), "utf8"));
  assert.deepEqual(Object.keys(urls).sort(), ["about.md", "posts/hello.md"]);
  assert.ok(urls["posts/hello.md"].includes("title=Hello%20from%20Hugo"));
  for (const url of Object.values(urls)) await assertPng(url);
});

test("plain HTML: the printed tags carry a working, HTML-escaped image URL", { skip: !live }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(recipe("plain-html.mjs")), "Hello & welcome"]);
  const content = /<meta property="og:image" content="([^"]+)">/.exec(stdout)[1];
  assert.ok(!/&(?!amp;)/.test(content), "& is escaped in the attribute");
  await assertPng(content.replaceAll("&amp;", "&"));
});
