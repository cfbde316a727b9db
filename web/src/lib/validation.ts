/**
 * Client-side copies of the server's account rules, so forms can say what is
 * wrong before a round trip. The server stays the authority.
 */
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
export const PASSWORD_MIN_BYTES = 8;
export const PASSWORD_MAX_BYTES = 72;

const USERNAME_RE = /^[A-Za-z0-9_.-]+$/;
// Pragmatic address check: one @, no spaces, a dot in the domain part.
const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export type UsernameProblem = 'required' | 'length' | 'charset';
export type EmailProblem = 'required' | 'invalid';
export type PasswordProblem = 'required' | 'too_short' | 'too_long' | 'same_as_username' | 'same_as_email';

export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

export function checkUsername(value: string): UsernameProblem | null {
  if (!value) return 'required';
  if (value.length < USERNAME_MIN || value.length > USERNAME_MAX) return 'length';
  if (!USERNAME_RE.test(value)) return 'charset';
  return null;
}

export function checkEmail(value: string): EmailProblem | null {
  if (!value) return 'required';
  if (value.length > 254 || !EMAIL_RE.test(value)) return 'invalid';
  return null;
}

export function checkPassword(
  value: string,
  ctx: { username?: string; email?: string } = {},
): PasswordProblem | null {
  if (!value) return 'required';
  const bytes = utf8Length(value);
  if (bytes < PASSWORD_MIN_BYTES) return 'too_short';
  if (bytes > PASSWORD_MAX_BYTES) return 'too_long';
  const lower = value.toLowerCase();
  if (ctx.username && lower === ctx.username.toLowerCase()) return 'same_as_username';
  if (ctx.email && lower === ctx.email.toLowerCase()) return 'same_as_email';
  return null;
}

/** Which form field a server `validation_failed` message is about, when it names one. */
export function fieldFromServerMessage<F extends string>(message: string, fields: readonly F[]): F | null {
  const lower = message.toLowerCase();
  for (const f of fields) {
    if (lower.includes(f.replace('_', ' ')) || lower.includes(f)) return f;
  }
  return null;
}
