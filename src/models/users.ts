// The built-in users model: a user's name, email and roles, and (in its migrations) the table
// of their API tokens. Who a caller is (AuthUser) is what the model layer's writes record.
import { Type } from "@sinclair/typebox";
import { defineModel } from "./model.ts";

export interface AuthUser {
  id: string;
  name: string;
  email: string;
  roles: string[];
}

export const DEFAULT_ADMIN_ROLE = "admin";
const adminOnly = { role: DEFAULT_ADMIN_ROLE } as const;

export const usersModel = defineModel({
  name: "User",
  table: "users",
  fields: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ pattern: "^[^@\\s]+@[^@\\s]+$", maxLength: 320 }),
    roles: Type.Array(Type.String({ pattern: "^[a-z][a-z0-9_-]*$", maxLength: 50 }), { maxItems: 20 }),
  }),
  access: { list: adminOnly, get: adminOnly, create: adminOnly, update: adminOnly, delete: adminOnly },
  uniques: [["email"]],
  migrations: [
    {
      version: 2,
      name: "api tokens",
      up: `
        CREATE TABLE api_tokens (
          id         TEXT    PRIMARY KEY,
          user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          name       TEXT    NOT NULL,
          token_hash TEXT    NOT NULL UNIQUE,
          created_at INTEGER NOT NULL,
          revoked_at INTEGER
        );
        CREATE INDEX api_tokens_user ON api_tokens (user_id);`,
    },
  ],
});
