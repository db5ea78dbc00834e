import React from 'react';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { setBackendSrv } from '@grafana/runtime';

import { anomalyRate, formatAge, Overview } from './Overview';
import { healthJSON } from '../testing/fixtures';
import { nodeBackendSrv, startWireServer, type WireServer } from '../testing/wireBackend';

// The machine is shared and often loaded: a generous per-test limit (no test here measures time).
jest.setTimeout(30_000);

describe('app overview page against a server speaking the documented /api/health wire format', () => {
  let server: WireServer;
  let health: unknown;
  beforeAll(async () => {
    server = await startWireServer((r) => (r.path === '/api/health' ? { body: health } : undefined));
    setBackendSrv(nodeBackendSrv(server.url));
  });
  afterAll(() => server.close());

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
    expect(screen.getByRole('link', { name: /Log anomalies dashboard/ })).toHaveAttribute('href', '/d/scorpio-log-anomalies');
    expect(server.requests.at(-1)?.path).toBe('/api/health');
  });

  it('explains a backend that does not answer, and refreshes', async () => {
    health = { nope: true };
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
