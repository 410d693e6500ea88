// ULIDs (https://github.com/ulid/spec): 10 characters of millisecond time, then 16 random ones,
// in Crockford's base32, so ids sort by creation. Ours, not the `ulid` package: its Node build
// imports node:crypto, which cost every start ~8 ms (issue 20); the random part comes from
// the global crypto here, as it did there.
/** Crockford's base32, the alphabet of ULIDs and of our other short ids (request ids, owner ids). */
export const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ENCODING = CROCKFORD;
const TIME_MAX = 2 ** 48 - 1;

/**
 * An id generator whose ids increase strictly, also within one millisecond and when `time`
 * goes back: then the last id's random part is incremented (the spec's monotonic mode).
 * `time` defaults to now (as does 0). `random` (a number in [0, 1)) defaults to the global
 * crypto's bytes.
 */
export function monotonicFactory(random?: () => number): (time?: number) => string {
  const randomPart = random
    ? () => {
        let out = "";
        for (let i = 0; i < 16; i++) out += ENCODING[Math.floor(random() * 32) % 32];
        return out;
      }
    : pooledRandomPart;
  let lastTime = 0;
  let lastRandom = "";
  return (time?: number) => {
    const seed = !time || Number.isNaN(time) ? Date.now() : time;
    if (!Number.isInteger(seed) || seed < 0 || seed > TIME_MAX) throw new Error(`a ULID's time must be whole milliseconds from 0 to 2^48 - 1, not ${seed}`);
    if (seed <= lastTime) return encodeTime(lastTime) + (lastRandom = increment(lastRandom));
    lastTime = seed;
    return encodeTime(seed) + (lastRandom = randomPart());
  };
}

const encodeTime = (time: number) => base32(time, 10);

/** A whole number ≥ 0 as exactly `length` base32 digits (the high ones dropped). */
export function base32(value: number, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) {
    const digit = value % 32;
    out = ENCODING[digit] + out;
    value = (value - digit) / 32;
  }
  return out;
}

// Random bytes drawn 256 at a time (one call into the generator per 16 ULIDs); each is used once.
const pool = new Uint8Array(256);
let poolAt = pool.length;

const pooledRandomPart = () => randomBase32(16);

/** `length` random base32 characters (5 bits each; length ≤ 256). */
export function randomBase32(length: number): string {
  if (poolAt + length > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  // Each byte's low 5 bits: every character is uniform.
  let out = "";
  for (let i = 0; i < length; i++) out += ENCODING[pool[poolAt++]! & 31];
  return out;
}

function increment(random: string): string {
  for (let i = random.length - 1; i >= 0; i--) {
    const digit = ENCODING.indexOf(random[i]!);
    if (digit < 31) return random.slice(0, i) + ENCODING[digit + 1] + "0".repeat(random.length - 1 - i);
  }
  throw new Error("ULID random part overflowed within one millisecond");
}
