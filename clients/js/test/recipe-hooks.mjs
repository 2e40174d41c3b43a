// Module hooks for the recipes' tests: the framework- and app-provided modules a recipe imports
// (Next.js's "@/lib/posts" path alias, Astro's "astro:env/server") resolve to small stand-ins.
// What the recipes build — the signed URL — is real and fetched from a live server.
const STAND_INS = {
  "@/lib/posts":
    "export async function getPost(slug) { return { title: `Post ${slug}: Grüße & C++ 🚀`, author: 'Ada L.' }; }",
  "astro:env/server":
    "export const { OGMINT_URL, OGMINT_KID, OGMINT_SIGNING_SECRET } = process.env;",
};

export async function resolve(specifier, context, next) {
  if (specifier in STAND_INS) {
    const source = encodeURIComponent(STAND_INS[specifier]);
    return { url: `data:text/javascript,${source}`, shortCircuit: true };
  }
  return next(specifier, context);
}
