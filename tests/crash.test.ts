/**
 * Crash safety of the built server (a real child process, killed with SIGKILL):
 * every acknowledged feedback record survives, and so do the trained model and the stored anomalies.
 */
import { startBuiltServer, type BuiltServer } from '../backend/testing/built-server';
import { anomalyLines, normalLines, postJson, pushLines, query, removeDir, rowsOf, tempDir, waitFor } from './service-helpers';
import { fetchHealth, fetchSourceHealth } from '../backend/testing/health';

jest.setTimeout(90_000);

const startServer = (dataDir: string): Promise<BuiltServer> =>
  startBuiltServer({ env: { LAD_DATA_DIR: dataDir, LAD_DEMO: 'false', LAD_TRAIN_LINES: '300', LAD_LOG_LEVEL: 'info' } });

async function kill9(running: BuiltServer): Promise<void> {
  await running.stop('SIGKILL');
}

let dir: string;
let running: BuiltServer | null = null;

beforeEach(() => {
  dir = tempDir('lad-crash-');
});

afterEach(async () => {
  if (running && running.child.exitCode === null) {
    await kill9(running);
  }
  running = null;
  removeDir(dir);
});

test('SIGKILL while feedback is being posted concurrently: every acknowledged record is there after restart', async () => {
  running = await startServer(dir);
  const { url } = running;
  const acknowledged: string[] = [];
  let stop = false;
  // 8 concurrent writers posting as fast as they can until the kill.
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      try {
        const res = await postJson(`${url}/api/feedback`, { message: `writer ${w} record ${i}`, kind: i % 3 ? 'false_positive' : 'confirmed', source: 'crash' });
        if (res.status === 201) {
          acknowledged.push(((await res.json()) as { id: string }).id);
        }
      } catch {
        return; // the connection died with the process: this one was never acknowledged
      }
    }
  };
  const writers = Array.from({ length: 8 }, (_, w) => writer(w));
  await waitFor(() => (acknowledged.length >= 60 ? true : undefined), '60 acknowledged records');
  await kill9(running);
  stop = true;
  await Promise.all(writers);
  const acked = [...acknowledged];
  expect(acked.length).toBeGreaterThanOrEqual(60);

  running = await startServer(dir);
  const records = (await (await fetch(`${running.url}/api/feedback?source=crash`)).json()) as { id: string }[];
  const ids = new Set(records.map((r) => r.id));
  expect(acked.filter((id) => !ids.has(id))).toEqual([]);
  const health = await fetchHealth(running.url);
  expect(health.factStore.falsePositives + health.factStore.confirmed).toBe(records.length);
});

test('SIGKILL after training: the restarted server reuses the saved model and still has the anomalies', async () => {
  running = await startServer(dir);
  expect((await pushLines(running.url, 'web', normalLines.slice(0, 300))).status).toBe(204);
  expect((await pushLines(running.url, 'web', [...normalLines.slice(300, 350), anomalyLines[0]])).status).toBe(204);
  const url1 = running.url;
  const before = await waitFor(async () => {
    const rows = rowsOf((await query(url1, [{ refId: 'A', queryType: 'anomalies', source: 'web', search: 'Connection is not available' }])).results.A.frames[0]);
    return rows.length > 0 ? rows[0] : undefined;
  }, 'the anomaly to be queryable');
  const trainedAt = (await fetchHealth(url1)).sources[0].lastTrainedAt;
  // Results are flushed to their files every 250 ms; the model is saved before it is swapped in.
  await new Promise((resolve) => setTimeout(resolve, 600));
  await kill9(running);

  running = await startServer(dir);
  const url2 = running.url;
  const rows = rowsOf((await query(url2, [{ refId: 'A', queryType: 'anomalies', source: 'web' }])).results.A.frames[0]);
  expect(rows.map((r) => r.id)).toContain(before.id);
  expect((await fetch(`${url2}/api/anomalies/${before.id}/context?before=2&after=0`)).status).toBe(200);
  // A new line is scored at once by the loaded model: no new training window.
  expect((await pushLines(url2, 'web', [anomalyLines[1]])).status).toBe(204);
  const source = await waitFor(async () => {
    const s = await fetchSourceHealth(url2, 'web');
    return s && s.linesScored === 1 ? s : undefined;
  }, 'the loaded model to score');
  expect(source.modelState).toBe('ready');
  expect(source.lastTrainedAt).toBe(trainedAt);
  const metrics = await (await fetch(`${url2}/metrics`)).text();
  expect(metrics).not.toMatch(/lad_training_runs_total\{[^}]*\} [1-9]/);
  // The rate counts survive too.
  const rate = rowsOf((await query(url2, [{ refId: 'R', queryType: 'rate', source: 'web' }])).results.R.frames[0]);
  expect(rate.reduce((s, r) => s + (r.lines as number), 0)).toBe(352);
});
