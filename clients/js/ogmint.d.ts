// Types for ogmint.mjs (the ogmint client kit). Contract: SPEC §2.1, §3, §3.1, §4, §5.1, §6.1, §11.

/** Render parameters (SPEC §1): template, title, description, palette, colours, brand, … */
export type Params =
  | Record<string, string | number | boolean | null | undefined>
  | URLSearchParams
  | Map<string, string>
  | Array<[string, string]>
  | string;

export type Bytes = string | Uint8Array | ArrayBuffer | ArrayBufferView;

export interface SigningOptions {
  /** The signing key's public id, `sk_…`. */
  kid: string;
  /** The signing key's secret, `ogm_sign_…` (keep it server-side / build-time only). */
  secret: string;
  /** Absolute expiry: Unix seconds or a Date. Leave out for a URL that never changes. */
  exp?: number | Date;
  /** Expiry relative to `now`, in seconds (instead of `exp`). */
  expiresIn?: number;
  /** Round exp up to a multiple of this many seconds (e.g. 86400: one URL per UTC day). */
  bucket?: number;
  /** The clock, in Unix seconds (default: now). */
  now?: number;
}

/** A signed V1 image URL (SPEC §2.1), cache-stable: no exp unless asked for. */
export function signUrl(base: string, params: Params, key: SigningOptions): Promise<string>;
/** An unsigned V1 image URL in canonical form. */
export function imageUrl(base: string, params: Params): string;
/** The exp a signUrl call would sign, or undefined for none. */
export function expiry(options?: {
  exp?: number | Date;
  expiresIn?: number;
  bucket?: number;
  now?: number;
}): number | undefined;
export function encode(value: Bytes): string;
export function decodeQuery(query: string): Array<[Uint8Array, Uint8Array]>;
export function canonicalQuery(pairs: Iterable<[Bytes, Bytes]>): string;
export function signature(secret: string, canonical: string): Promise<string>;

export class WebhookVerificationError extends Error {}

export interface WebhookEvent {
  event: "render.completed";
  data: {
    url: string;
    slug: string;
    template: string;
    metadata: Record<string, unknown>;
    createdAt: string;
  };
}

/** Checks both signatures and the timestamp of a webhook delivery (SPEC §4). */
export function verifyWebhook(
  body: Bytes,
  headers: Headers | Record<string, string | string[] | undefined>,
  secret: string,
  options?: { tolerance?: number; now?: number },
): Promise<WebhookEvent>;

/** An error answer of the API (SPEC §7). */
export class OgmintApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly details: Array<{ field: string; message: string }>;
  /** Retry-After in seconds, when the server sent one. */
  readonly retryAfter: number | null;
}

export interface RenderBody {
  [param: string]: unknown;
  webhookUrl?: string;
  webhookSecret?: string;
  metadata?: Record<string, unknown>;
}

export interface Rendered {
  slug: string;
  url: string;
  webhook_dispatched: boolean;
  cached?: boolean;
  width?: number;
  height?: number;
  format?: string;
}

export interface StoredRender {
  slug: string;
  url: string;
  template: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  createdAt: string;
}

export interface RenderDetail extends StoredRender {
  params: Record<string, unknown>;
  deliveries: Array<Record<string, unknown>>;
}

/** One batch item's answer: a render (201/200) or an error, with its status. */
export type BatchResult =
  | (Rendered & { status: 200 | 201; success: true })
  | {
      status: number;
      success: false;
      error: string;
      code: string;
      details: Array<{ field: string; message: string }>;
    };

export interface Validation {
  width: number;
  height: number;
  fields: Record<string, { lines: string[]; fontSize: number; truncated: boolean }>;
}

export interface Usage {
  plan: string;
  quota: number | null;
  used: number;
  remaining: number | null;
  resetsAt: string;
  days: Array<{ date: string; v1: number; v2: number; dedup: number }>;
}

export interface Template {
  id: string;
  name: string | null;
  version: string;
  fields: Array<Record<string, unknown>>;
  /** The presets it renders (og, twitter, linkedin, and each it has a document for). */
  sizes: string[];
  createdAt: string;
  updatedAt: string;
  /** Set by `templates.get` only: the og document. */
  svg?: string;
  /** Set by `templates.get` only: its document per other preset, as uploaded in `sizes`. */
  sizeSvgs?: Record<string, string>;
}

export interface TemplateBody {
  svg: string;
  name?: string;
  sizes?: Record<string, string>;
}

export interface Look {
  bgColor?: string | null;
  textColor?: string | null;
  accentColor?: string | null;
  surfaceColor?: string | null;
  palette?: string | null;
  font?: string | null;
  logo?: string | null;
}

export interface Brand extends Required<Look> {
  id: string;
  name: string;
  version: string;
  createdAt: string;
  updatedAt: string;
}

export interface ClientOptions {
  fetch?: typeof fetch;
  /** Retries of a 429 or 503 (default 3). */
  retries?: number;
  /** Longest Retry-After to wait for, in seconds (default 30); longer ones are thrown. */
  maxWait?: number;
  /** First wait when there is no Retry-After, in seconds (default 0.5); doubles each time. */
  backoff?: number;
}

export interface Client {
  render(body: RenderBody): Promise<Rendered>;
  batch(items: RenderBody[]): Promise<BatchResult[]>;
  validate(body: RenderBody): Promise<Validation>;
  usage(): Promise<Usage>;
  renders: {
    list(options?: { limit?: number; cursor?: string | null }): Promise<{
      renders: StoredRender[];
      nextCursor: string | null;
    }>;
    iterate(options?: { limit?: number }): AsyncGenerator<StoredRender, void, undefined>;
    get(slug: string): Promise<RenderDetail>;
    delete(slug: string): Promise<void>;
  };
  templates: {
    create(body: TemplateBody): Promise<Template>;
    list(): Promise<Template[]>;
    get(id: string): Promise<Template>;
    update(id: string, body: TemplateBody): Promise<Template>;
    delete(id: string): Promise<void>;
    /** The PNG bytes of an unsaved template. */
    preview(body: TemplateBody & Record<string, unknown>): Promise<Uint8Array>;
  };
  brands: {
    create(body: Look & { name: string }): Promise<Brand>;
    list(): Promise<Brand[]>;
    get(id: string): Promise<Brand>;
    update(id: string, body: Look & { name: string }): Promise<Brand>;
    delete(id: string): Promise<void>;
  };
  signingKeys: {
    create(): Promise<{ id: string; secret: string; createdAt: string }>;
    list(): Promise<Array<{ id: string; createdAt: string }>>;
    revoke(kid: string): Promise<void>;
  };
}

/** A V2 API client; 429/503 retried honouring Retry-After (bounded). */
export function createClient(base: string, apiKey: string, options?: ClientOptions): Client;

/** Brands with (name, look) arguments: shorthand for createClient(...).brands. */
export function brands(
  base: string,
  apiKey: string,
  options?: ClientOptions,
): {
  create(name: string, look?: Look): Promise<Brand>;
  list(): Promise<Brand[]>;
  get(id: string): Promise<Brand>;
  update(id: string, name: string, look?: Look): Promise<Brand>;
  delete(id: string): Promise<void>;
};
