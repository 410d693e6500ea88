// Elysia composes each route from its handler and hooks, and guesses from their source text
// whether one is async: any `return f(` or `=> f(` counts. A route it takes for async becomes
// an async function, and Bun.serve then awaits a promise per request: a point read over HTTP
// ran at 0.6× the same handler taken for sync. A bound function shows no source, so Elysia
// takes it for what it is. Only for functions that are sync, or that never reject: a promise
// one of them returns is answered by Elysia, but a rejection would escape the error envelope.
export function syncRoute<F extends (...args: never[]) => unknown>(fn: F): F {
  return fn.bind(null) as F;
}
