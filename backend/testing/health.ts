/** Test and benchmark helpers: read a running service's GET /api/health, typed by the API's own response type. */
import type { HealthResponse, SourceHealth } from '../api/health';

export async function fetchHealth(url: string): Promise<HealthResponse> {
  const res = await fetch(`${url}/api/health`);
  if (!res.ok) {
    throw new Error(`GET ${url}/api/health answered ${res.status}`);
  }
  return (await res.json()) as HealthResponse;
}

/** The health of one source, or undefined while the service does not know it yet. */
export async function fetchSourceHealth(url: string, source: string): Promise<SourceHealth | undefined> {
  return (await fetchHealth(url)).sources.find((s) => s.name === source);
}
