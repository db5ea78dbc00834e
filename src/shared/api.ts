import { lastValueFrom } from 'rxjs';
import { getBackendSrv, isFetchError } from '@grafana/runtime';
import { z } from 'zod';

import { ladProxyBase } from './constants';
import {
  contextSchema,
  feedbackRecordSchema,
  healthSchema,
  livenessSchema,
  sourcesSchema,
  type AnomalyContext,
  type FeedbackRecord,
  type FeedbackRequest,
  type Health,
} from './contract';

/** An error with a message fit to show to the person at the screen. */
export class LadApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly field?: string,
    /** The backend refused the API token (a 401, or the 400 Grafana's data proxy makes of it). */
    readonly tokenRejected = false
  ) {
    super(message);
    this.name = 'LadApiError';
  }
}

/**
 * Grafana's data proxy answers a backend's 401 with a 400 and this text, dropping the backend's body
 * (grafana/grafana pkg/api/pluginproxy/ds_proxy.go, modifyResponse): in the browser a wrong token looks like this.
 */
export const PROXY_AUTH_FAILED = 'Authentication to data source failed';

/**
 * Grafana's data proxy answers 403 with this message when a plugin.json route's reqRole is above the user's role
 * (ds_proxy.go validateRequest): a Viewer sending feedback, whose routes need Editor.
 */
export const PROXY_ROUTE_DENIED = 'plugin proxy route access denied';

/**
 * The text of an answer Grafana's BackendSrv received as text: it hands a failed answer's text body to the plugin
 * as `{message: text, error: statusText, response: text}` (public/app/core/services/backend_srv.ts
 * processRequestError), never as a string. A bare string is accepted too (another client, or an older Grafana).
 */
function textBodyOf(body: unknown): string | undefined {
  if (typeof body === 'string') {
    return body;
  }
  const response = (body as { response?: unknown } | null | undefined)?.response;
  return typeof body === 'object' && body !== null && typeof response === 'string' ? response : undefined;
}

/** Whether an answer means "the backend refused the token", directly or through Grafana's data proxy. */
export function isTokenRejection(status: number | undefined, body: unknown): boolean {
  return status === 401 || (status === 400 && (textBodyOf(body) ?? '').includes(PROXY_AUTH_FAILED));
}

/** The first non-blank string of `candidates`, trimmed. */
function firstText(...candidates: unknown[]): string | undefined {
  for (const c of candidates) {
    if (typeof c === 'string' && c.trim()) {
      return c.trim();
    }
  }
  return undefined;
}

/** Turns whatever getBackendSrv().fetch threw into one readable sentence (backend `{error, field}` first). */
export function readableError(err: unknown, what: string): LadApiError {
  if (err instanceof LadApiError) {
    return err;
  }
  if (isFetchError(err)) {
    const raw = err.data;
    const body = (typeof raw === 'object' && raw !== null ? raw : undefined) as { error?: unknown; field?: unknown; message?: unknown } | undefined;
    const text = textBodyOf(raw);
    // A text answer (Grafana's own, e.g. the data proxy's 400) says more than the statusText Grafana copies into
    // `error`; a JSON one names its problem in `error` (the Scorpio backend) or `message` (Grafana's JSON errors).
    const detail = text !== undefined ? firstText(text.slice(0, 200), err.statusText) : firstText(body?.error, body?.message, err.statusText);
    const field = typeof body?.field === 'string' ? body.field : undefined;
    const status = err.status;
    const tokenRejected = isTokenRejection(status, raw);
    let hint = '';
    if (status === 403 && detail === PROXY_ROUTE_DENIED) {
      hint = ' (your Grafana role may not do this: feedback needs Editor or Admin)';
    } else if (tokenRejected || status === 403) {
      hint = ' (check the API token in the datasource settings)';
    } else if (status === 504) {
      // reverse_proxy.go answers 504 when the backend sent no response headers within dataproxy.timeout.
      hint = " (Grafana's data proxy stopped waiting for the backend: [dataproxy] timeout in grafana.ini, 30 s by default; a shorter time range or fewer sources answer sooner)";
    } else if (status === 502 || !status) {
      hint = ' (is the Scorpio backend running and its URL right in the datasource settings?)';
    }
    const where = field ? ` [field ${field}]` : '';
    return new LadApiError(`${what} failed: ${status ? `HTTP ${status} ` : ''}${detail || 'no response'}${where}${hint}`, status, field, tokenRejected);
  }
  return new LadApiError(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
}

/** A backend answer checked against its schema, or an error naming the first field that does not fit. */
function parseAnswer<S extends z.ZodType>(what: string, schema: S, data: unknown): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LadApiError(`${what}: unexpected answer from the backend (${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'})`);
  }
  return parsed.data;
}

/**
 * Talks to the Scorpio backend through Grafana's data proxy of one datasource
 * (`/api/datasources/proxy/uid/<uid>/lad/...`): no CORS, and the API token never reaches the browser.
 */
export class LadClient {
  constructor(readonly baseUrl: string) {}

  static forDatasource(uid: string): LadClient {
    return new LadClient(ladProxyBase(uid));
  }

  /** A client for no datasource: every call fails with `reason` (shown where the call's result would be). */
  static unavailable(reason: string): LadClient {
    const client = new LadClient('');
    client.unavailableReason = reason;
    return client;
  }

  private unavailableReason?: string;

  async request<S extends z.ZodType>(
    what: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: S | null,
    data?: unknown
  ): Promise<z.infer<S>> {
    if (this.unavailableReason) {
      throw new LadApiError(`${what} failed: ${this.unavailableReason}`);
    }
    let response;
    try {
      response = await lastValueFrom(
        getBackendSrv().fetch<unknown>({
          url: `${this.baseUrl}${path}`,
          method,
          data,
          // The panel and the editors show their own errors; Grafana's global toast would repeat them.
          showErrorAlert: false,
          showSuccessAlert: false,
        })
      );
    } catch (err) {
      throw readableError(err, what);
    }
    if (!schema) {
      return undefined as z.infer<S>;
    }
    return parseAnswer(what, schema, response.data);
  }

  /**
   * The backend's health. Without the token (none configured here while the backend has one) it answers liveness
   * only, `{status: "ok"}`: that is a token problem, not a broken backend.
   */
  async health(): Promise<Health> {
    const answer = await this.request('Health check', 'GET', '/api/health', z.unknown());
    if (livenessSchema.safeParse(answer).success) {
      throw new LadApiError(
        'Health check: the backend is up but shows details only with its API token (check the API token in the datasource settings)',
        200,
        undefined,
        true
      );
    }
    return parseAnswer('Health check', healthSchema, answer);
  }

  sources(): Promise<string[]> {
    return this.request('Listing sources', 'GET', '/api/sources', sourcesSchema);
  }

  context(anomalyId: string, before = 10, after = 10): Promise<AnomalyContext> {
    const q = `?before=${before}&after=${after}`;
    return this.request('Loading context', 'GET', `/api/anomalies/${encodeURIComponent(anomalyId)}/context${q}`, contextSchema);
  }

  sendFeedback(feedback: FeedbackRequest): Promise<FeedbackRecord> {
    return this.request('Sending feedback', 'POST', '/api/feedback', feedbackRecordSchema, feedback);
  }

  /**
   * Whether the backend accepts this datasource's writes (feedback), without writing: deleting an id that cannot
   * exist answers 404 past the token check and the route's role check, and 401 (400 through Grafana's data proxy)
   * or 403 before them. A backend with a token guards reads too, so a wrong token usually fails the health check
   * first; this still catches what refuses writes alone, such as a user whose role may not send feedback (the
   * feedback routes' reqRole is Editor).
   */
  async canWrite(): Promise<'yes' | 'denied' | 'unknown'> {
    try {
      await this.request('Token check', 'DELETE', '/api/feedback/__scorpio-token-check__', null);
      return 'yes';
    } catch (err) {
      const status = err instanceof LadApiError ? err.status : undefined;
      if (status === 404) {
        return 'yes';
      }
      return (err instanceof LadApiError && err.tokenRejected) || status === 403 ? 'denied' : 'unknown';
    }
  }

  async deleteFeedback(id: string): Promise<void> {
    await this.request('Undoing feedback', 'DELETE', `/api/feedback/${encodeURIComponent(id)}`, null);
  }
}
