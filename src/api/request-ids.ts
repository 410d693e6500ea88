// Request ids: ULID-shaped (26 Crockford base32 characters, the first 10 the time in ms), so
// they sort by time and read like every other id here, but made without randomness per
// request: ulid's own factory cost 0.7 µs of a 30 µs status read (its PRNG and base32 work).
// A request id only has to tell one request's log lines from another's: the 80 bits after
// the time are a random part drawn once per process (50 bits) and a counter (30 bits), so
// two processes do not collide and one process never repeats an id within a millisecond.
import { base32, CROCKFORD, randomBase32 } from "../ulid.ts";

const COUNTER_SPACE = 2 ** 30;

/** Ids that increase within this process while its clock does (the counter wraps after 2^30 ids). */
export function requestIdSource(now: () => number = Date.now): () => string {
  const processPart = randomBase32(10);
  let counter = 0;
  let lastMs = -1;
  let timePart = "";
  // The counter's first five digits change once per 32 ids: only its last one is looked up per id.
  let counterHead = base32(0, 5);
  return () => {
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      timePart = base32(ms, 10);
    }
    counter = (counter + 1) % COUNTER_SPACE;
    const digit = counter % 32;
    if (digit === 0) counterHead = base32(counter / 32, 5);
    return timePart + processPart + counterHead + CROCKFORD[digit]!;
  };
}
