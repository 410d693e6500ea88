// Request-body validation: a 422 lists the first MAX_ERRORS problems and builds no more.
import { describe, expect, test } from "bun:test";
import type { TSchema } from "@sinclair/typebox";
import type { TypeCheck } from "@sinclair/typebox/compiler";
import { MAX_ERRORS, validateBody } from "../../src/models/validate.ts";
import { CodedError } from "../../src/errors.ts";

/** A check that fails with `n` errors and counts how many of them were pulled from its iterator. */
function countingCheck(n: number) {
  const counter = { pulled: 0 };
  const check = {
    Check: () => false,
    *Errors() {
      for (let i = 0; i < n; i++) {
        counter.pulled++;
        yield { path: `/lines/${i}/book_id`, message: "Expected required property" };
      }
    },
  } as unknown as TypeCheck<TSchema>;
  return { check, counter };
}

describe("validateBody", () => {
  test("a body with a million errors builds only the first 20 of them and answers them", () => {
    const { check, counter } = countingCheck(1_000_000);
    let thrown: unknown;
    try {
      validateBody(check, { lines: [] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CodedError);
    const error = thrown as CodedError;
    expect(error.status).toBe(422);
    expect(error.details).toHaveLength(MAX_ERRORS);
    expect(error.details![0]).toEqual({ field: "lines.0.book_id", message: "Expected required property" });
    expect(counter.pulled).toBe(MAX_ERRORS);
  });
});
