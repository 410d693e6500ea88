// Sending mail with nodemailer. Embedded default: each message is written as an .eml file to
// an outbox folder next to the database (a till is often offline; an operator or a later
// sync can pick the files up). With an SMTP URL, messages go through that server instead.
// Node's modules by their default export: a named import makes Bun build the module's whole
// namespace at start (node:fs: ~5 ms of a start here; measured in issue 20). The promise API is
// node:fs's lazy `promises`, reached at the first message: importing node:fs/promises loaded it
// at every start (~0.3 ms), and node:fs is loaded then anyway (the database's files).
import fs from "node:fs";
import path from "node:path";
import type { Transporter } from "nodemailer";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../db/private-files.ts";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** A stable Message-ID makes a resent message (a retried job) recognisable as the same one. */
  messageId?: string;
}

export interface SentMail {
  messageId: string;
  /** Where the message went: a file:// URL for the outbox, or smtp://host for a server. */
  url: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<SentMail>;
  close(): void;
}

export interface MailerOptions {
  from: string;
  /** smtp://user:pass@host:port or smtps://…; when absent, the outbox is used. */
  smtpUrl?: string | null;
  outbox: string;
  /** Socket timeouts, so a hung mail server fails the attempt instead of holding it. */
  timeoutMs?: number;
}

export function createMailer(options: MailerOptions): Mailer {
  return options.smtpUrl ? smtpMailer(options, options.smtpUrl) : outboxMailer(options);
}

// nodemailer is loaded with the first message, not at start: a till's start (and --help) need
// none of it.
function lazyTransport(options: object): () => Promise<Transporter> {
  let transport: Promise<Transporter> | null = null;
  return () => (transport ??= import("nodemailer").then((nodemailer) => nodemailer.default.createTransport(options)));
}

function smtpMailer(options: MailerOptions, smtpUrl: string): Mailer {
  const timeout = options.timeoutMs ?? 30_000;
  const transport = lazyTransport({ url: smtpUrl, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout });
  const host = new URL(smtpUrl).host;
  let opened: Transporter | null = null;
  return {
    async send(message) {
      opened = await transport();
      const info = await opened.sendMail({ from: options.from, ...message });
      return { messageId: info.messageId, url: `smtp://${host}` };
    },
    close: () => opened?.close(),
  };
}

function outboxMailer(options: MailerOptions): Mailer {
  const transport = lazyTransport({ streamTransport: true, buffer: true, newline: "unix" });
  const dir = path.resolve(options.outbox);
  let ready: Promise<unknown> | null = null;
  return {
    async send(message) {
      // Messages hold customers' addresses and orders: owner-only (src/db/private-files.ts).
      const fsp = fs.promises;
      ready ??= fsp.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
      await ready;
      const info = await (await transport()).sendMail({ from: options.from, ...message });
      const name = `${safeName(info.messageId)}.eml`;
      // Write then rename: a reader of the outbox never sees half a message. Asynchronous
      // file calls keep the disk work off the thread that answers requests (measured: about
      // 1 ms per message with synchronous calls, most of an order's cost on a busy till).
      const temp = path.join(dir, `.${name}.tmp`);
      await fsp.writeFile(temp, info.message as Buffer, { mode: PRIVATE_FILE_MODE });
      await fsp.rename(temp, path.join(dir, name));
      return { messageId: info.messageId, url: `file://${path.join(dir, name)}` };
    },
    close() {},
  };
}

function safeName(messageId: string): string {
  return messageId.replace(/^<|>$/g, "").replace(/[^\w.@-]/g, "_");
}
