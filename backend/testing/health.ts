/** Test and benchmark helpers: read a running service's GET /api/health, typed by the API's own response type. */
import type { HealthResponse, SourceHealth } from '../api/health';
import { waitForValue } from './wait';

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

/**
 * Waits until each source of `acknowledged` (source → lines answered 2xx) has scored exactly that many lines, and
 * returns every source's health then: the flood tests' "nothing acknowledged is lost". The health call must
 * answer 200 throughout (fetchHealth throws otherwise).
 */
export async function waitAcknowledgedScored(url: string, acknowledged: ReadonlyMap<string, number>, timeoutMs: number): Promise<SourceHealth[]> {
  let sources: SourceHealth[] = [];
  await waitForValue(
    async () => {
      sources = (await fetchHealth(url)).sources;
      return [...acknowledged].every(([name, lines]) => sources.find((h) => h.name === name)?.linesScored === lines) ? true : undefined;
    },
    () => `every acknowledged line scored: ${JSON.stringify(sources.map((h) => [h.name, h.linesIngested, h.linesScored, acknowledged.get(h.name), h.modelState]))}`,
    timeoutMs,
    500
  );
  return sources;
}
