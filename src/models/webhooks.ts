// Webhooks (the seeds' service.Webhook). Each model event matching a subscription's pattern
// enqueues a delivery job IN THE SAME TRANSACTION as the write: the job queue is the outbox,
// so nothing is lost in a crash and a till offline for a day delivers when the line returns.
// A delivery POSTs the event (CloudEvents JSON) signed Standard-Webhooks style and, unless the
// subscription asks for "standard" only, with the seeds' `X-Webhook-Signature` too, so a
// receiver built for either verifies without configuration; 2xx is success, anything else (or
// a timeout) is retried with backoff over a long horizon.
import { Type as t } from "@sinclair/typebox";
import type { Event } from "../events/event.ts";
import { eventForNonAdmins } from "../events/job-events.ts";
import { compilePattern } from "../events/pattern.ts";
import { maniflexSignature, signWebhook } from "../events/signature.ts";
import { PermanentJobError, type Handler } from "../jobs/attempt.ts";
import { defineModel } from "./model.ts";
import type { Services, WriteHooks } from "./services.ts";

const adminOnly = { role: "admin" } as const;

export const WebhookSubscription = defineModel({
  name: "WebhookSubscription",
  table: "webhook_subscriptions",
  fields: t.Object({
    url: t.String({ pattern: "^https?://[^\\s]+$", maxLength: 2000 }),
    /** `whsec_<base64>` (Standard Webhooks) or any string of 16+ characters; during a rotation,
     * the new and the old secret separated by a space (deliveries are signed with both). */
    secret: t.String({ minLength: 16, maxLength: 600 }),
    /** Event pattern: `order.*`, `book.updated`, `>` for everything. */
    pattern: t.String({ minLength: 1, maxLength: 200 }),
    active: t.Optional(t.Boolean()),
    /** Left out (or "maniflex"): the Standard Webhooks headers and the seeds' `X-Webhook-Signature:
     * sha256=<hex>`; "standard": the Standard Webhooks headers only. */
    format: t.Optional(t.Union([t.Literal("standard"), t.Literal("maniflex")])),
  }),
  access: { list: adminOnly, get: adminOnly, create: adminOnly, update: adminOnly, delete: adminOnly },
  // Written, never read back: answers show `secret_hint` (its last 4 characters) instead.
  writeOnly: ["secret"],
});

/** "standard": Standard Webhooks headers only; "maniflex" (the default): those and the seeds' header. */
export type WebhookFormat = "standard" | "maniflex";

export interface WebhookConfig {
  name: string;
  url: string;
  secret: string;
  pattern: string;
  format?: WebhookFormat;
}

export interface WebhookOptions {
  /** Subscriptions configured in code (besides those created over REST). */
  subscriptions?: WebhookConfig[];
  /** Delivery attempts before a delivery is dead. Default 300: about a day at the 5-minute backoff cap. */
  maxAttempts?: number;
  /** A receiver that has not answered in this long fails the attempt. Default 10 s. */
  timeoutMs?: number;
}

export const WEBHOOK_JOB = "webhook_delivery";

/** How a failed attempt's error names the receiver's answer (read back by deliveryHttpStatus). */
const RECEIVER_ANSWERED = "receiver answered ";

/**
 * The receiver's most recent HTTP answer to a delivery: a success keeps it in the job's output,
 * a refusal in an attempt's error ("receiver answered 503"). `errors` are the attempts' errors,
 * newest first: an attempt that got no answer (connection refused, timeout, subscription
 * disabled) does not hide the answer an earlier one got. Null when the receiver never answered.
 */
export function deliveryHttpStatus(status: string, output: unknown, errors: readonly (string | null)[]): number | null {
  if (status === "succeeded") {
    const answered = (output as { status?: unknown } | null)?.status;
    if (typeof answered === "number") return answered;
  }
  for (const error of errors) {
    const match = error?.startsWith(RECEIVER_ANSWERED) ? /^\d{3}$/.exec(error.slice(RECEIVER_ANSWERED.length)) : null;
    if (match) return Number(match[0]);
  }
  return null;
}

interface Target {
  key: string;
  url: string;
  secret: string;
  format: WebhookFormat;
  matches: (type: string) => boolean;
  active: boolean;
}

export class Webhooks {
  private cached: Target[] | null = null;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly code: Target[];

  constructor(
    private readonly services: () => Services,
    options: WebhookOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 300;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.code = (options.subscriptions ?? []).map((s) => ({ key: `code:${s.name}`, url: s.url, secret: s.secret, format: s.format ?? "maniflex", matches: compilePattern(s.pattern), active: true }));
  }

  /** Validates patterns on write and drops the cached subscription list after any change. */
  register(pipeline: WriteHooks): void {
    pipeline.register(({ record }) => {
      if (typeof record.pattern === "string") compilePattern(record.pattern);
    }, { model: WebhookSubscription.name, position: "before", operations: ["create", "update"] });
    pipeline.register(({ services }) => services.db.afterCommit(() => (this.cached = null)), { model: WebhookSubscription.name, position: "after" });
  }

  /**
   * Enqueues one delivery per matching subscription, inside the caller's transaction. `traceparent`
   * is the write's request trace: an event visible to all carries none, but the delivery (to a
   * receiver an admin set up) is still traced — the job and its `traceparent` header.
   */
  enqueueFor(event: Event, traceparent: string | null = event.traceparent ?? null): void {
    // A receiver is not an admin's session: it gets what REST shows a non-admin of a job.
    event = eventForNonAdmins(event);
    for (const target of this.targets()) {
      if (!target.active || !target.matches(event.type)) continue;
      this.services().queue.enqueue({ type: WEBHOOK_JOB, payload: { subscription: target.key, event }, maxRetry: this.maxAttempts, traceId: traceparent });
    }
  }

  handler(): Handler {
    return async (job, context) => {
      const { subscription, event } = job.payload as { subscription: string; event: Event };
      const target = this.targets().find((t) => t.key === subscription);
      if (!target) throw new PermanentJobError(`webhook subscription ${subscription} no longer exists`);
      if (!target.active) throw new PermanentJobError(`webhook subscription ${subscription} is not active`);
      const body = JSON.stringify(event);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "Backroom-Webhooks/1",
        "x-event-type": event.type,
        ...signWebhook(target.secret, event.id, body),
      };
      const traceparent = event.traceparent ?? job.traceId;
      if (traceparent) headers.traceparent = traceparent;
      if (target.format !== "standard") headers["x-webhook-signature"] = maniflexSignature(target.secret, body);
      const response = await fetch(target.url, { method: "POST", body, headers, redirect: "manual", signal: AbortSignal.any([context.signal, AbortSignal.timeout(this.timeoutMs)]) });
      await response.body?.cancel();
      if (response.status < 200 || response.status > 299) throw new Error(`${RECEIVER_ANSWERED}${response.status}`);
      return { output: { status: response.status, url: target.url } };
    };
  }

  private targets(): Target[] {
    if (!this.cached) {
      const stored = this.services().model(WebhookSubscription.name).list({ where: [], sort: [], limit: 1_000, offset: 0 }).rows;
      this.cached = [
        ...this.code,
        ...stored.map((s) => ({ key: `db:${s.id}`, url: s.url as string, secret: s.secret as string, format: (s.format as WebhookFormat | null) ?? "maniflex", matches: compilePattern(s.pattern as string), active: s.active !== false })),
      ];
    }
    return this.cached;
  }
}
