// app/blog/[slug]/page.js — Next.js 15+ App Router: `params` is a Promise. This runs on the
// server only, so the signing secret never reaches the browser.
import { signUrl } from "ogmint";
import { getPost } from "@/lib/posts";

export async function generateMetadata({ params }) {
  const { slug } = await params;
  const post = await getPost(slug);
  // No exp: one URL per post, the same on every request, so every cache hits.
  const image = await signUrl(
    process.env.OGMINT_URL,
    { template: "blog", title: post.title, author: post.author },
    { kid: process.env.OGMINT_KID, secret: process.env.OGMINT_SIGNING_SECRET },
  );
  return {
    title: post.title,
    openGraph: { images: [{ url: image, width: 1200, height: 630 }] },
    twitter: { card: "summary_large_image", images: [image] },
  };
}
