/**
 * Whether the mail provider "fails" this attempt: true one time in five, at random but
 * seeded by (seed, key, attempt), so the same signups fail the same attempts on every run
 * and a test of retries is deterministic. A real provider fails like this with a 421 or
 * a timeout; the task's `retries: 5` is what absorbs it.
 */
export function providerFails(seed: number, key: string, attempt: number, rate = 0.2): boolean {
  return random(hash(`${seed}:${key}:${attempt}`)) < rate;
}

/** FNV-1a, 32 bits: a stable number from a string. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** One draw of mulberry32 from a seed: uniform in [0, 1). */
function random(seed: number): number {
  let t = (seed + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
