// eleventy.config.js — Eleventy 3: every og:image is signed at build time by a shortcode,
// used in a layout as {% ogImage title %}.
import { signUrl } from "ogmint";

export default function (eleventyConfig) {
  eleventyConfig.addAsyncShortcode("ogImage", (title) =>
    signUrl(
      process.env.OGMINT_URL,
      { template: "blog", title },
      { kid: process.env.OGMINT_KID, secret: process.env.OGMINT_SIGNING_SECRET },
    ),
  );
}
