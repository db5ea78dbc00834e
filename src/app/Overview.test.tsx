import React from 'react';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { setBackendSrv, setDataSourceSrv } from '@grafana/runtime';

import { anomalyRate, formatAge, Overview } from './Overview';
import { fakeDataSourceSrv } from '../testing/dataSourceSrv';
import { healthJSON } from '../testing/fixtures';
import { backendSrvViaDataProxyStandIn, startWireServer, type StandInBackendSrv, type WireServer } from '../testing/wireBackend';

const TYPE = 'scorpio-lad-datasource';

// The machine is shared and often loaded: a generous per-test limit (no test here measures time).
jest.setTimeout(30_000);

/** An answer no backend sends, on purpose: the page must explain it (the stand-in lets it through). */
const NOT_HEALTH = { nope: true };

describe('app overview page against a server speaking the documented /api/health wire format', () => {
  let server: WireServer;
  let backendSrv: StandInBackendSrv;
  let health: unknown;
  beforeAll(async () => {
    server = await startWireServer((r) => (r.path === '/api/health' ? { body: health, offContract: health === NOT_HEALTH } : undefined));
    // Uids an installation chose: nothing here is the provisioned "scorpio-lad".
    backendSrv = backendSrvViaDataProxyStandIn(server.url, { uids: ['lad-prod', 'lad-staging'] });
    setBackendSrv(backendSrv);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    backendSrv.proxied.length = 0;
    setDataSourceSrv(
      fakeDataSourceSrv([
        { uid: 'prom', type: 'prometheus', name: 'Prometheus', isDefault: true },
        { uid: 'lad-staging', type: TYPE, name: 'Scorpio staging' },
        { uid: 'lad-prod', type: TYPE, name: 'Scorpio prod' },
      ])
    );
  });

  it('shows each source with lines/s, anomaly rate, model state and age, and the fact-store counts', async () => {
    health = healthJSON();
    render(<Overview />);
    const table = await screen.findByRole('table', { name: 'Log sources' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    const web = within(rows[1]).getAllByRole('cell').map((c) => c.textContent);
    expect(web).toEqual(expect.arrayContaining(['web (push)', 'connected', '41.5', '10000', '25', '0.25 %', '3', 'ready', '2 h 1 min']));
    const auth = within(rows[2]).getAllByRole('cell').map((c) => c.textContent);
    expect(auth).toEqual(expect.arrayContaining(['collecting', 'not trained yet', '–']));
    expect(screen.getByLabelText('False positives in the fact-store')).toHaveTextContent('4');
    expect(screen.getByLabelText('Confirmed anomalies in the fact-store')).toHaveTextContent('2');
    expect(screen.getByLabelText('Precision of reviewed anomalies')).toHaveTextContent('33 %');
    expect(within(rows[2]).getAllByRole('cell').map((c) => c.textContent)).toContain('12');
    expect(screen.getByRole('link', { name: /Log anomalies dashboard/ })).toHaveAttribute('href', '/d/scorpio-log-anomalies');
    expect(server.requests.at(-1)?.path).toBe('/api/health');
    // The first Scorpio datasource Grafana lists (no guessed uid).
    expect(backendSrv.proxied).toEqual(['lad-staging GET /api/health']);
  });

  it('reads the default Scorpio datasource first, and lets the user pick another', async () => {
    health = healthJSON();
    setDataSourceSrv(
      fakeDataSourceSrv([
        { uid: 'lad-staging', type: TYPE, name: 'Scorpio staging' },
        { uid: 'lad-prod', type: TYPE, name: 'Scorpio prod', isDefault: true },
      ])
    );
    render(<Overview />);
    await screen.findByRole('table', { name: 'Log sources' });
    expect(backendSrv.proxied).toEqual(['lad-prod GET /api/health']);
    await userEvent.click(screen.getByRole('radio', { name: 'Scorpio staging' }));
    await screen.findByRole('table', { name: 'Log sources' });
    expect(backendSrv.proxied).toEqual(['lad-prod GET /api/health', 'lad-staging GET /api/health']);
  });

  it('shows a retraining model and a results store that could not be written', async () => {
    const base = healthJSON();
    health = {
      ...base,
      resultsStore: { lastError: 'ENOSPC: no space left on device' },
      sources: [{ ...(base.sources[0] as object), retraining: true }],
    };
    render(<Overview />);
    const table = await screen.findByRole('table', { name: 'Log sources' });
    expect(within(within(table).getAllByRole('row')[1]).getAllByRole('cell').map((c) => c.textContent)).toContain('ready, retraining');
    expect(screen.getByText('The results store could not be written')).toBeInTheDocument();
    expect(screen.getByText(/ENOSPC/)).toBeInTheDocument();
  });

  it('lists what is failing when the backend says it is degraded (a full disk under the spool)', async () => {
    const problem = 'spool cannot write, pushes are answered 503: ENOSPC: no space left on device';
    health = { ...healthJSON(), status: 'degraded', problems: [problem], spool: { lastError: 'ENOSPC: no space left on device' } };
    render(<Overview />);
    await screen.findByText('The backend is degraded');
    expect(within(screen.getByRole('list', { name: 'Backend problems' })).getAllByRole('listitem').map((li) => li.textContent)).toEqual([problem]);
  });

  it('says so when the organisation has no Scorpio datasource', () => {
    setDataSourceSrv(fakeDataSourceSrv([{ uid: 'prom', type: 'prometheus', name: 'Prometheus', isDefault: true }]));
    render(<Overview />);
    expect(screen.getByText('No Scorpio datasource')).toBeInTheDocument();
    expect(backendSrv.proxied).toEqual([]);
  });

  it('explains a backend that does not answer, and refreshes', async () => {
    health = NOT_HEALTH;
    render(<Overview />);
    expect(await screen.findByText(/unexpected answer from the backend/)).toBeInTheDocument();
    health = healthJSON({ sources: [] });
    await userEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    expect(await screen.findByText('No log sources yet')).toBeInTheDocument();
  });

  it('formats ages and rates', () => {
    expect(formatAge(null)).toBe('not trained yet');
    expect(formatAge(59)).toBe('59 s');
    expect(formatAge(3 * 86400 + 7200)).toBe('3 d 2 h');
    expect(anomalyRate({ anomalies: 1, linesScored: 4000 })).toBe('0.025 %');
    expect(anomalyRate({ anomalies: 0, linesScored: 0 })).toBe('–');
  });
});
