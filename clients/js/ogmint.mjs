// ogmint client kit for JavaScript: cache-stable signed V1 image URLs, webhook verification and
// the whole V2 API (renders, batch, validate, usage, templates, brands, signing keys).
// One dependency-free ES module on fetch and Web Crypto: Node >= 18, Deno, Bun, browsers and edge
// runtimes. Contract: SPEC §2.1, §3, §3.1, §4, §5.1, §6.1 and §11 of ogmint.

const MESSAGE_PREFIX = "GET\n/api/og\n";
const SIGNATURE_PARAMS = new Set(["kid", "exp", "sig"]);
const UNRESERVED = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") {
  UNRESERVED[c.charCodeAt(0)] = 1;
}
const HEX = "0123456789ABCDEF";
const utf8 = new TextEncoder();

/** Thrown by verifyWebhook when a delivery is not authentic or too old. */
export class WebhookVerificationError extends Error {
  constructor(message) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

// Node 18 has Web Crypto only as node:crypto's webcrypto; newer runtimes have it globally.
let subtlePromise;
function subtle() {
  subtlePromise ??= globalThis.crypto?.subtle
    ? Promise.resolve(globalThis.crypto.subtle)
    : import(/* webpackIgnore: true */ "node:crypto").then((m) => m.webcrypto.subtle);
  return subtlePromise;
}

function toBytes(value) {
  if (typeof value === "string") return utf8.encode(value);
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError("expected a string, Uint8Array or ArrayBuffer");
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function sameBytes(a, b) {
  return compareBytes(a, b) === 0;
}

/** Percent-encodes every byte except A-Z a-z 0-9 - . _ ~ (upper-case hex, space as %20). */
export function encode(value) {
  let out = "";
  for (const byte of toBytes(value)) {
    out += UNRESERVED[byte] ? String.fromCharCode(byte) : "%" + HEX[byte >> 4] + HEX[byte & 15];
  }
  return out;
}

function hexValue(byte) {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

function percentDecode(text) {
  const bytes = utf8.encode(text.replaceAll("+", " "));
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const hi = bytes[i] === 0x25 && i + 2 < bytes.length ? hexValue(bytes[i + 1]) : -1;
    const lo = hi >= 0 ? hexValue(bytes[i + 2]) : -1;
    if (lo >= 0) {
      out[n++] = hi * 16 + lo;
      i += 2;
    } else {
      out[n++] = bytes[i]; // a % without two hex digits stays a literal %
    }
  }
  return out.slice(0, n);
}

/**
 * The (name, value) pairs of a query string, percent-decoded to bytes ("+" is a space), as
 * the server reads them: a part without "=" is a name with an empty value; empty parts skipped.
 */
export function decodeQuery(query) {
  const pairs = [];
  for (const part of query.replace(/^\?/, "").split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const [name, value] = eq < 0 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)];
    pairs.push([percentDecode(name), percentDecode(value)]);
  }
  return pairs;
}

/** Colour parameters are signed as lower-case rrggbb ("#FFF" → "ffffff"), as the server does. */
const COLOR_PARAMS = new Set(["bgColor", "bg", "textColor", "text", "accentColor", "accent", "surfaceColor"]);

function canonicalColor(name, value) {
  const text = new TextDecoder().decode(value);
  const m = COLOR_PARAMS.has(new TextDecoder().decode(name)) && /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(text);
  if (!m) return [name, value];
  const digits = m[1].toLowerCase();
  return [name, utf8.encode(digits.length === 6 ? digits : [...digits].map((c) => c + c).join(""))];
}

/**
 * The canonical query of SPEC §2.1: every pair except sig, sorted by name bytes, each re-encoded,
 * joined as name=value with "&". Names and values may be strings or bytes. A repeated name throws.
 */
export function canonicalQuery(pairs) {
  const sig = utf8.encode("sig");
  const signed = [...pairs]
    .map(([name, value]) => canonicalColor(toBytes(name), toBytes(value)))
    .filter(([name]) => !sameBytes(name, sig))
    .sort((a, b) => compareBytes(a[0], b[0]) || compareBytes(a[1], b[1]));
  for (let i = 1; i < signed.length; i++) {
    if (sameBytes(signed[i - 1][0], signed[i][0])) {
      throw new TypeError(`parameter ${new TextDecoder().decode(signed[i][0])} is repeated`);
    }
  }
  return signed.map(([name, value]) => encode(name) + "=" + encode(value)).join("&");
}

function base64url(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function hmacKey(secretBytes, usage) {
  const s = await subtle();
  return s.importKey("raw", secretBytes, { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/** sig for a canonical query: base64url without padding of HMAC-SHA256(secret, message). */
export async function signature(secret, canonical) {
  const key = await hmacKey(utf8.encode(secret), "sign");
  const mac = await (await subtle()).sign("HMAC", key, utf8.encode(MESSAGE_PREFIX + canonical));
  return base64url(new Uint8Array(mac));
}

function paramPairs(params) {
  if (typeof params === "string") return decodeQuery(params);
  const entries =
    params instanceof URLSearchParams || params instanceof Map || Array.isArray(params)
      ? [...params]
      : Object.entries(params ?? {});
  const pairs = [];
  for (const [name, value] of entries) {
    if (value === undefined || value === null) continue;
    if (SIGNATURE_PARAMS.has(name)) throw new TypeError(`${name} is set by signUrl, not a parameter`);
    pairs.push([utf8.encode(String(name)), utf8.encode(String(value))]);
  }
  return pairs;
}

/**
 * The exp to sign: `exp` as given (Unix seconds or a Date), or `now + expiresIn` seconds; rounded
 * up to a multiple of `bucket` seconds when given, so every URL made within one bucket is the same
 * (cache-stable) and none expires earlier than asked. No exp at all unless one is asked for.
 */
export function expiry({ exp, expiresIn, bucket, now } = {}) {
  if (exp !== undefined && exp !== null && expiresIn !== undefined && expiresIn !== null) {
    throw new TypeError("give exp or expiresIn, not both");
  }
  let seconds = exp instanceof Date ? Math.floor(exp.getTime() / 1000) : exp;
  if (expiresIn !== undefined && expiresIn !== null) {
    if (!Number.isFinite(expiresIn) || expiresIn < 0) throw new TypeError("expiresIn must be seconds");
    seconds = Math.floor((now ?? Date.now() / 1000) + expiresIn);
  }
  if (seconds === undefined || seconds === null) {
    if (bucket !== undefined && bucket !== null) throw new TypeError("bucket needs exp or expiresIn");
    return undefined;
  }
  if (!Number.isInteger(seconds) || seconds < 0) throw new TypeError("exp must be Unix seconds");
  if (bucket === undefined || bucket === null) return seconds;
  if (!Number.isInteger(bucket) || bucket <= 0) throw new TypeError("bucket must be a positive number of seconds");
  return Math.ceil(seconds / bucket) * bucket;
}

/**
 * A signed V1 image URL (SPEC §2.1) for og:image tags. Without `exp`/`expiresIn` it has no exp,
 * so the same parameters always give the same URL (caches hit). With them, `bucket` (seconds)
 * rounds exp up: `{expiresIn: 30 * 86400, bucket: 86400}` gives one URL per page per UTC day.
 *
 * @param {string} base  the service's public base URL, e.g. "https://og.example.com"
 * @param {object|URLSearchParams|Map|Array|string} params  render parameters
 * @param {{kid: string, secret: string, exp?: number|Date, expiresIn?: number, bucket?: number, now?: number}} key
 * @returns {Promise<string>} base + "/api/og?" + canonical query + "&sig=" + signature
 */
export async function signUrl(base, params, { kid, secret, exp, expiresIn, bucket, now } = {}) {
  if (typeof kid !== "string" || !kid.startsWith("sk_")) throw new TypeError("kid must be an sk_… key id");
  if (typeof secret !== "string" || !secret) throw new TypeError("secret is required");
  const pairs = paramPairs(params);
  pairs.push([utf8.encode("kid"), utf8.encode(kid)]);
  const seconds = expiry({ exp, expiresIn, bucket, now });
  if (seconds !== undefined) pairs.push([utf8.encode("exp"), utf8.encode(String(seconds))]);
  const canonical = canonicalQuery(pairs);
  return `${rootOf(base)}/api/og?${canonical}&sig=${await signature(secret, canonical)}`;
}

/** An unsigned V1 image URL in canonical form (the same parameters always give the same URL). */
export function imageUrl(base, params) {
  return `${rootOf(base)}/api/og?${canonicalQuery(paramPairs(params))}`;
}

function rootOf(base) {
  return String(base).replace(/\/+$/, "").replace(/\/api\/og$/, "");
}

function header(headers, name) {
  if (!headers) return undefined;
  let value;
  if (typeof headers.get === "function") value = headers.get(name);
  else {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  if (Array.isArray(value)) value = value[0];
  return value === null || value === undefined ? undefined : String(value);
}

function fromHex(text) {
  if (!/^[0-9a-f]{64}$/.test(text)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function fromBase64(text) {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function standardKey(secret) {
  // A whsec_ secret is the Standard Webhooks key in base64; any other secret is its UTF-8 bytes.
  if (secret.startsWith("whsec_")) {
    const key = fromBase64(secret.slice(6));
    if (key) return key;
  }
  return utf8.encode(secret);
}

/**
 * Checks an ogmint webhook delivery (SPEC §4): x-ogmint-signature over the body, the Standard
 * Webhooks signature over "id.timestamp.body" and the timestamp within `tolerance` seconds.
 * Signatures are compared by Web Crypto's verify (constant time).
 *
 * @param {string|Uint8Array|ArrayBuffer} body  the raw request body, exactly as received
 * @param {Headers|object} headers  the request headers
 * @param {string} secret  the webhookSecret given to the render
 * @returns {Promise<object>} the parsed event; throws WebhookVerificationError otherwise
 */
export async function verifyWebhook(body, headers, secret, { tolerance = 300, now } = {}) {
  const bytes = toBytes(body);
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  const ours = header(headers, "x-ogmint-signature");
  if (!id || !timestamp || !signatures || !ours) {
    throw new WebhookVerificationError("missing webhook signature headers");
  }
  if (!/^[0-9]{1,15}$/.test(timestamp)) throw new WebhookVerificationError("bad webhook-timestamp");
  const clock = now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(clock - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError("webhook-timestamp outside the tolerance");
  }
  const s = await subtle();
  const hex = fromHex(ours.trim());
  const plainKey = await hmacKey(utf8.encode(secret), "verify");
  if (!hex || !(await s.verify("HMAC", plainKey, hex, bytes))) {
    throw new WebhookVerificationError("x-ogmint-signature does not match");
  }
  const signed = new Uint8Array([...utf8.encode(`${id}.${timestamp}.`), ...bytes]);
  const stdKey = await hmacKey(standardKey(secret), "verify");
  let matched = false;
  for (const candidate of signatures.split(" ")) {
    const [version, value] = candidate.split(",", 2);
    const mac = version === "v1" && value ? fromBase64(value) : null;
    if (mac && (await s.verify("HMAC", stdKey, mac, signed))) matched = true;
  }
  if (!matched) throw new WebhookVerificationError("webhook-signature does not match");
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** An error answer of the API (SPEC §7): `status`, and the body's `code` and `details` ({field, message}). */
export class OgmintApiError extends Error {
  constructor(status, body, headers) {
    super(body?.error ?? `HTTP ${status}`);
    this.name = "OgmintApiError";
    this.status = status;
    this.code = body?.code ?? null;
    this.details = Array.isArray(body?.details) ? body.details : [];
    this.retryAfter = retryAfterSeconds(headers?.get?.("retry-after") ?? null);
  }
}

function retryAfterSeconds(value) {
  if (value === null || value === undefined) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, (when - Date.now()) / 1000);
}

const RETRY_STATUSES = new Set([429, 503]);
const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/**
 * A client for the V2 API (SPEC §3, §3.1, §5.1, §6.1, §2.1). Every call retries 429 and 503 at
 * most `retries` times, honouring Retry-After, never waiting longer than `maxWait` seconds (a
 * monthly-quota 429 says "in days": it is thrown at once as an OgmintApiError).
 *
 * @param {string} base  the service's base URL, e.g. "https://og.example.com"
 * @param {string} apiKey  an ogm_live_… API key
 * @param {{fetch?: typeof fetch, retries?: number, maxWait?: number, backoff?: number}} [options]
 */
export function createClient(base, apiKey, options = {}) {
  const { fetch: fetchImpl = globalThis.fetch, retries = 3, maxWait = 30, backoff = 0.5 } = options;
  const root = String(base).replace(/\/+$/, "");
  const seg = encodeURIComponent;

  async function call(method, path, body, { binary = false } = {}) {
    const headers = { "x-api-key": apiKey, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    for (let attempt = 0; ; attempt++) {
      const response = await fetchImpl(root + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: "manual",
      });
      if (RETRY_STATUSES.has(response.status) && attempt < retries) {
        const wait = retryAfterSeconds(response.headers.get("retry-after")) ?? backoff * 2 ** attempt;
        if (wait <= maxWait) {
          await response.body?.cancel();
          await sleep(wait);
          continue;
        }
      }
      if (response.ok && binary) return new Uint8Array(await response.arrayBuffer());
      let doc = null;
      try {
        doc = await response.json();
      } catch {
        doc = null;
      }
      if (!response.ok) throw new OgmintApiError(response.status, doc, response.headers);
      return doc;
    }
  }

  const crud = (collection, key) => ({
    create: async (body) => (await call("POST", `/api/v2/${collection}`, body))[key],
    list: async () => (await call("GET", `/api/v2/${collection}`))[`${key}s`],
    get: async (id) => (await call("GET", `/api/v2/${collection}/${seg(id)}`))[key],
    update: async (id, body) => (await call("PUT", `/api/v2/${collection}/${seg(id)}`, body))[key],
    delete: async (id) => {
      await call("DELETE", `/api/v2/${collection}/${seg(id)}`);
    },
  });

  const renders = {
    /** One page, newest first: {renders, nextCursor}. */
    list: async ({ limit, cursor } = {}) => {
      const query = new URLSearchParams();
      if (limit !== undefined) query.set("limit", String(limit));
      if (cursor !== undefined && cursor !== null) query.set("cursor", cursor);
      const qs = query.toString();
      const doc = await call("GET", `/api/v2/renders${qs ? `?${qs}` : ""}`);
      return { renders: doc.renders, nextCursor: doc.nextCursor ?? null };
    },
    /** Every stored render, newest first, following the cursor: `for await (const r of ...)`. */
    async *iterate({ limit = 100 } = {}) {
      let cursor = null;
      do {
        const page = await renders.list({ limit, cursor });
        yield* page.renders;
        cursor = page.nextCursor;
      } while (cursor);
    },
    get: async (slug) => (await call("GET", `/api/v2/renders/${seg(slug)}`)).render,
    delete: async (slug) => {
      await call("DELETE", `/api/v2/renders/${seg(slug)}`);
    },
  };

  const templates = crud("templates", "template");
  templates.preview = (body) => call("POST", "/api/v2/templates/preview", body, { binary: true });

  return {
    /** POST /api/v2/render: {slug, url, webhook_dispatched, cached?}. */
    render: (body) => call("POST", "/api/v2/render", body),
    /** POST /api/v2/render/batch: one result per item, in order, each with its `status`. */
    batch: async (items) => {
      if (!Array.isArray(items) || items.length < 1 || items.length > 100) {
        throw new TypeError("a batch has 1 to 100 items");
      }
      return (await call("POST", "/api/v2/render/batch", { items })).results;
    },
    /** POST /api/v2/validate: {width, height, fields: {name: {lines, fontSize, truncated}}}. */
    validate: async (body) => {
      const { success, ...layout } = await call("POST", "/api/v2/validate", body);
      return layout;
    },
    /** GET /api/v2/usage: {plan, quota, used, remaining, resetsAt, days}. */
    usage: async () => {
      const { success, ...usage } = await call("GET", "/api/v2/usage");
      return usage;
    },
    renders,
    templates,
    brands: crud("brands", "brand"),
    signingKeys: {
      create: async () => (await call("POST", "/api/v2/signing-keys")).signingKey,
      list: async () => (await call("GET", "/api/v2/signing-keys")).signingKeys,
      revoke: async (kid) => {
        await call("DELETE", `/api/v2/signing-keys/${seg(kid)}`);
      },
    },
  };
}

/**
 * Brands (SPEC §6.1) of the API key's user: saved looks that renders name with `brand=<id>`.
 * A look takes the API's names: bgColor, textColor, accentColor, surfaceColor, palette, font,
 * logo (an https:// URL the server fetches once, when the brand is saved).
 * (Shorthand for createClient(base, apiKey).brands with (name, look) arguments.)
 */
export function brands(base, apiKey, options = {}) {
  const crud = createClient(base, apiKey, options).brands;
  return {
    create: (name, look = {}) => crud.create({ ...look, name }),
    list: () => crud.list(),
    get: (id) => crud.get(id),
    update: (id, name, look = {}) => crud.update(id, { ...look, name }),
    delete: (id) => crud.delete(id),
  };
}
