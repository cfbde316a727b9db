// Tests wait for conditions, never for a fixed time: `waitFor` polls `fn` until it returns a
// truthy value (which it then returns) or the deadline passes.
export async function waitFor(fn, what, timeoutMs = 30000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
