// Books on sale at the till, and the demo catalogue a fresh database starts with. A book
// entered as a draft is not on sale until it is published — by hand, or at its publish_at by
// the scheduled-fields runner.
import { defineModel, t, type Services } from "../index.ts";

export const Book = defineModel({
  name: "Book",
  table: "books",
  fields: t.Object({
    title: t.String({ minLength: 1, maxLength: 300 }),
    author: t.String({ minLength: 1, maxLength: 200 }),
    price_cents: t.Integer({ minimum: 0, maximum: 100_000_000 }),
    stock: t.Integer({ minimum: 0 }),
    /** Left out on create: published (the column's default), as every book was before drafts. */
    status: t.Optional(t.Union([t.Literal("draft"), t.Literal("published")])),
    publish_at: t.Optional(t.Union([t.String({ format: "date-time" }), t.Null()])),
  }),
  access: { list: "public", get: "public" },
  defaults: { status: "published" },
  // Drafts are the admins' until published: hidden from the public list, a 404, and their events admin-only.
  visible: { status: "published" },
  migrations: [
    {
      version: 2,
      name: "books: draft status and publish_at",
      fields: ["status", "publish_at"],
      up: `ALTER TABLE books ADD COLUMN status TEXT NOT NULL DEFAULT 'published';
           ALTER TABLE books ADD COLUMN publish_at INTEGER;`,
    },
  ],
  scheduled: [{ name: "publish", field: "publish_at", where: { status: "draft" }, set: { status: "published" }, since: 2 }],
});

const DEMO_BOOKS = [
  { title: "The Left Hand of Darkness", author: "Ursula K. Le Guin", price_cents: 1299, stock: 12 },
  { title: "Kindred", author: "Octavia E. Butler", price_cents: 1499, stock: 8 },
  { title: "Piranesi", author: "Susanna Clarke", price_cents: 1650, stock: 5 },
  { title: "The Remains of the Day", author: "Kazuo Ishiguro", price_cents: 1199, stock: 10 },
  { title: "Middlemarch", author: "George Eliot", price_cents: 999, stock: 3 },
];

/** Fills an empty catalogue with a few books, so a new till has something to sell. */
export function seedCatalogue(services: Services): number {
  const books = services.model("books");
  if (books.list({ where: [], sort: [], limit: 1, offset: 0, skipTotal: true }).rows.length > 0) return 0;
  services.db.transaction(() => {
    for (const book of DEMO_BOOKS) books.create(book, { auth: null, services });
  });
  return DEMO_BOOKS.length;
}
