// src/lib/og-image.js — Astro 5: the key comes from astro:env (schema in astro.config.mjs);
// static pages are signed at build time, server-rendered ones per request.
import { signUrl } from "ogmint";
import { OGMINT_KID, OGMINT_SIGNING_SECRET, OGMINT_URL } from "astro:env/server";

export function ogImage({ title, description }) {
  return signUrl(
    OGMINT_URL,
    { template: "blog", title, description },
    { kid: OGMINT_KID, secret: OGMINT_SIGNING_SECRET },
  );
}
