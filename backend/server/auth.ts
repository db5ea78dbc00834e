import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * Bearer-token check for write endpoints (push, feedback POST/DELETE). No token configured: everything passes.
 * The token is compared in constant time (on hashes, so lengths do not leak) and never logged.
 */
export function requireToken(token: string | undefined): RequestHandler {
  if (!token) {
    return (_req, _res, next) => next();
  }
  const expected = createHash('sha256').update(token).digest();
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (m && timingSafeEqual(createHash('sha256').update(m[1].trim()).digest(), expected)) {
      next();
      return;
    }
    res.set('WWW-Authenticate', 'Bearer realm="scorpio"');
    res.status(401).json({ error: m ? 'invalid bearer token' : 'missing Authorization: Bearer <token> header (LAD_API_TOKEN is set)', field: 'authorization' });
  };
}
