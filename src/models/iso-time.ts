// Epoch milliseconds as ISO-8601 UTC text, the form every time takes on the wire. Each read
// formats several times per row (a job status: five), and a client polls the same rows again
// and again: the strings are kept in a bounded cache, and formatted from integers when missed
// (`new Date(ms).toISOString()` allocates a Date per value and cost 7% of a status read).

const CACHE_LIMIT = 4096;
const cache = new Map<number, string>();
// Years 1970..9999 have the plain four-digit form; anything else is left to Date.
const LAST_MS = Date.UTC(10000, 0, 1);

export function isoTime(ms: number): string {
  let text = cache.get(ms);
  if (text === undefined) {
    text = ms >= 0 && ms < LAST_MS && Number.isInteger(ms) ? formatUtc(ms) : new Date(ms).toISOString();
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(ms, text);
  }
  return text;
}

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const three = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** The civil date of a day count (H. Hinnant's days_from_civil, inverted), then the time of day. */
function formatUtc(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${year}-${two(month)}-${two(day)}T${two(hours)}:${two(minutes)}:${two(seconds)}.${three(rest - seconds * 1000)}Z`;
}
