// scripts/og-images.mjs — Hugo: `node scripts/og-images.mjs && hugo` signs every page's og:image
// at build time into data/og.json (content path → URL), which the layout reads.
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";

import { signUrl } from "ogmint";

const key = { kid: process.env.OGMINT_KID, secret: process.env.OGMINT_SIGNING_SECRET };
const urls = {};
for (const entry of await readdir("content", { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".md")) continue;
  const path = join(entry.parentPath ?? entry.path, entry.name);
  const source = await readFile(path, "utf8");
  // The front matter's title, in YAML (title: …) or TOML (title = "…").
  const title = /^title\s*[:=]\s*["']?(.+?)["']?\s*$/m.exec(source)?.[1];
  if (!title) continue;
  const page = relative("content", path).replaceAll("\\", "/");
  urls[page] = await signUrl(process.env.OGMINT_URL, { template: "blog", title }, key);
}
await mkdir("data", { recursive: true });
await writeFile("data/og.json", JSON.stringify(urls, null, 2));
