/**
 * `sendMessage` over HTTP, safe to retry.
 *
 * A network error tells the client nothing about whether the server committed the message. The
 * idempotency key makes that question moot: the same key from the same user within 24 hours
 * answers the first call's message and creates nothing new (README, "Retry-safe sends"). So the key
 * is chosen once per message — before the first attempt — and every retry sends the same one.
 *
 * Retried (same key, backoff): network errors (refused, reset, a cut answer, an attempt timing
 * out) and HTTP 502/503/504 — a stopping ties answers 503 with `Retry-After` before anything of
 * the request runs. Never retried: a `userErrors` refusal (nothing changed; sending it again gets
 * the same answer until something else changes — the app decides), and top-level errors (a bad
 * token, malformed input, an operation the server refused).
 */
import type { SendMessageMutation, SendMessageMutationVariables } from './gql/graphql.js';
import { graphql } from './gql/index.js';

const SendMessage = graphql(`
  mutation SendMessage($input: SendMessageInput!) {
    sendMessage(input: $input) {
      message {
        id
        conversationId
        body
        sentAt
        sender {
          id
        }
      }
      userErrors {
        code
        message
        field
        retryAfterSeconds
      }
    }
  }
`);

export type MessageInput = SendMessageMutationVariables['input'];
export type SentMessage = NonNullable<SendMessageMutation['sendMessage']['message']>;
export type SendUserError = SendMessageMutation['sendMessage']['userErrors'][number];

/** The server's answer: the message (sent now, or by an earlier attempt with the same key), or why not. */
export type SendResult =
  | { ok: true; message: SentMessage; idempotencyKey: string; attempts: number }
  | { ok: false; userErrors: SendUserError[]; idempotencyKey: string; attempts: number };

/**
 * No answer from the server. `retryable`: it may not have been sent; send again later with the same
 * `idempotencyKey` (keep it with the message in your outbox) and it is never sent twice.
 */
export class SendError extends Error {
  constructor(
    message: string,
    readonly idempotencyKey: string,
    readonly attempts: number,
    readonly retryable: boolean,
    readonly details: { status?: number; errors?: readonly TopLevelError[]; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.name = 'SendError';
  }
}

export interface TopLevelError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface SendOptions {
  /** `http://host:4000/graphql`. */
  url: string;
  /** The bearer token, or a function asked before each attempt. */
  token: string | (() => string | Promise<string>);
  /** Attempts in all, the first included (default 6). */
  attempts?: number;
  /** Backoff between attempts: full jitter over `min(maxDelayMs, baseDelayMs × 2^attempt)`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** One attempt's limit; a request that hangs longer is abandoned and retried (default 15 s). */
  attemptTimeoutMs?: number;
  /** Stops retrying (and the attempt in flight). */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** Statuses that mean "this attempt did not run, or we cannot tell": retried with the same key. */
const RETRY_STATUSES = new Set([502, 503, 504]);

/** Sends one message. Give `input.idempotencyKey` if you persist an outbox; else one is chosen here. */
export async function sendMessage(input: MessageInput, options: SendOptions): Promise<SendResult> {
  const idempotencyKey = input.idempotencyKey ?? crypto.randomUUID();
  const body = JSON.stringify({
    query: SendMessage.toString(),
    variables: { input: { ...input, idempotencyKey } } satisfies SendMessageMutationVariables,
  });
  const maxAttempts = options.attempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;

  for (let attempt = 1; ; attempt++) {
    let failure: SendError;
    let waitMs: number | undefined;
    try {
      const token = typeof options.token === 'string' ? options.token : await options.token();
      const timeout = AbortSignal.timeout(options.attemptTimeoutMs ?? 15_000);
      const res = await doFetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
      if (RETRY_STATUSES.has(res.status)) {
        await res.body?.cancel();
        failure = new SendError(`HTTP ${res.status}`, idempotencyKey, attempt, true, { status: res.status });
        waitMs = retryAfterMs(res.headers.get('retry-after'));
      } else {
        const answer = (await res.json()) as { data?: SendMessageMutation | null; errors?: TopLevelError[] };
        const payload = answer.data?.sendMessage;
        if (payload?.message)
          return { ok: true, message: payload.message, idempotencyKey, attempts: attempt };
        if (payload) return { ok: false, userErrors: payload.userErrors, idempotencyKey, attempts: attempt };
        const errors = answer.errors ?? [];
        // SERVICE_UNAVAILABLE: refused before anything ran (the server is stopping).
        const retryable = errors.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE');
        failure = new SendError(
          errors[0]?.message ?? `HTTP ${res.status}`,
          idempotencyKey,
          attempt,
          retryable,
          {
            status: res.status,
            errors,
          },
        );
        if (!retryable) throw failure;
      }
    } catch (err) {
      if (err instanceof SendError) throw err;
      if (options.signal?.aborted)
        throw new SendError('Aborted', idempotencyKey, attempt, true, { cause: err });
      // fetch failed: refused, reset, cut mid-answer, or the attempt timed out. It may have run.
      failure = new SendError(`Network error: ${describe(err)}`, idempotencyKey, attempt, true, {
        cause: err,
      });
    }
    if (attempt >= maxAttempts) throw failure;
    const backoff = Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    await sleep(Math.max(waitMs ?? 0, backoff), options.signal);
  }
}

/** `Retry-After` as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describe(err: unknown): string {
  const e = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${String(e?.message ?? err)}${cause ? ` (${String(cause)})` : ''}`;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
