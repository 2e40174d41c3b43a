// sign-card.mjs — plain HTML: sign once, paste the printed tags into the page's <head>.
// OGMINT_URL=… OGMINT_KID=… OGMINT_SIGNING_SECRET=… node sign-card.mjs "Hello world"
import { signUrl } from "ogmint";

const url = await signUrl(
  process.env.OGMINT_URL,
  { template: "blog", title: process.argv[2] },
  { kid: process.env.OGMINT_KID, secret: process.env.OGMINT_SIGNING_SECRET },
);
const attr = url.replaceAll("&", "&amp;");
console.log(`<meta property="og:image" content="${attr}">
<meta property="og:image:width" content="1200">
<meta property="og:image:height" content="630">
<meta name="twitter:card" content="summary_large_image">`);
