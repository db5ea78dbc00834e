import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

/** What a request's Authorization header says about the configured token. */
export type TokenVerdict = 'ok' | 'missing' | 'wrong';

/**
 * Judges a request's `Authorization: Bearer <token>` against the configured token. No token configured: every
 * request is 'ok'. Compared in constant time on hashes (so lengths do not leak); the token is never logged.
 */
export function tokenJudge(token: string | undefined): (req: Request) => TokenVerdict {
  if (!token) {
    return () => 'ok';
  }
  const expected = createHash('sha256').update(token).digest();
  return (req) => {
    const header = req.get('authorization');
    if (header === undefined || header.trim() === '') {
      return 'missing';
    }
    const m = /^Bearer\s+(.+)$/i.exec(header);
    return m && timingSafeEqual(createHash('sha256').update(m[1].trim()).digest(), expected) ? 'ok' : 'wrong';
  };
}

/** 401 with a message that names the header, never the token (missing and wrong get different hints). */
export function refuse(res: Parameters<RequestHandler>[1], verdict: Exclude<TokenVerdict, 'ok'>): void {
  res.set('WWW-Authenticate', 'Bearer realm="scorpio"');
  res.status(401).json({
    error: verdict === 'wrong' ? 'invalid bearer token' : 'missing Authorization: Bearer <token> header (LAD_API_TOKEN is set)',
    field: 'authorization',
  });
}

/** Bearer-token check as middleware. No token configured: everything passes. */
export function requireToken(token: string | undefined): RequestHandler {
  const judge = tokenJudge(token);
  return (req, res, next) => {
    const verdict = judge(req);
    if (verdict === 'ok') {
      next();
      return;
    }
    refuse(res, verdict);
  };
}
