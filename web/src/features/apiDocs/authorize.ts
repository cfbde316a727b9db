/**
 * Adds the signed-in user's access token to a "Try it out" request unless the user chose
 * credentials of their own in the Authorize dialog (a platform key as Bearer or x-api-key).
 */
export function withSessionToken<R extends { headers: Record<string, string> }>(req: R, token: string | null): R {
  const has = Object.keys(req.headers).some((h) => ['authorization', 'x-api-key'].includes(h.toLowerCase()));
  if (!has && token) req.headers.Authorization = `Bearer ${token}`;
  return req;
}
