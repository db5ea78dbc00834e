/** Polls `check` every 10 ms until it holds; fails naming `what` (a string, or a function for the current state). */
export async function waitUntil(check: () => boolean, what: string | (() => string), timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Polls `check` (sync or async) every `intervalMs` until it returns a value other than undefined, and resolves
 * with it; fails naming `what` (a string, or a function for the current state) after `timeoutMs`.
 */
export async function waitForValue<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string | (() => string),
  timeoutMs = 20_000,
  intervalMs = 50
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
