import React, { useCallback, useEffect, useMemo, useState } from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { config, PluginPage } from '@grafana/runtime';
import { Alert, Button, LinkButton, LoadingPlaceholder, RadioButtonGroup, Stack, useStyles2 } from '@grafana/ui';

import { LadClient } from '../shared/api';
import { DASHBOARD_UID } from '../shared/constants';
import { scorpioDatasources } from '../shared/scorpioDatasources';
import type { Health, SourceHealth } from '../shared/contract';

type Load = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; health: Health };

/** "3 h 2 min" style age; null when the model has not been trained yet. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) {
    return 'not trained yet';
  }
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) {
    return `${s} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** Share of scored lines flagged anomalous, as a percentage string. */
export function anomalyRate(source: Pick<SourceHealth, 'anomalies' | 'linesScored'>): string {
  if (source.linesScored === 0) {
    return '–';
  }
  const pct = (source.anomalies / source.linesScored) * 100;
  return `${pct < 0.1 && pct > 0 ? pct.toFixed(3) : pct.toFixed(2)} %`;
}

const getStyles = (theme: GrafanaTheme2) => ({
  table: css({
    width: '100%',
    borderCollapse: 'collapse',
    'th, td': { padding: theme.spacing(0.75, 1), borderBottom: `1px solid ${theme.colors.border.weak}`, textAlign: 'left' },
    th: { color: theme.colors.text.secondary, fontWeight: theme.typography.fontWeightMedium },
    'td.num': { textAlign: 'right', fontVariantNumeric: 'tabular-nums' },
  }),
  cards: css({ display: 'flex', gap: theme.spacing(2), flexWrap: 'wrap', marginBottom: theme.spacing(2) }),
  card: css({
    padding: theme.spacing(1.5, 2),
    background: theme.colors.background.secondary,
    borderRadius: theme.shape.radius.default,
    minWidth: 160,
  }),
  cardValue: css({ fontSize: theme.typography.h3.fontSize }),
  muted: css({ color: theme.colors.text.secondary }),
  toolbar: css({ marginBottom: theme.spacing(2) }),
  error: css({ color: theme.colors.error.text }),
});

/**
 * The app page: the health of the backend behind a Scorpio datasource of this organisation. The datasource is
 * found by type (the default one first), not by a uid this code assumes; with several, the user picks one.
 */
export function Overview({ datasourceUid }: { datasourceUid?: string }) {
  const styles = useStyles2(getStyles);
  const installed = useMemo(() => (datasourceUid ? [] : scorpioDatasources()), [datasourceUid]);
  const [picked, setPicked] = useState<string | undefined>(undefined);
  const uid = datasourceUid ?? picked ?? installed[0]?.uid;
  if (!uid) {
    return (
      <PluginPage>
        <Alert severity="warning" title="No Scorpio datasource">
          This organisation has no datasource of type Scorpio LAD. Add one under Connections → Data sources (its URL is
          the Scorpio backend as the Grafana server reaches it), or provision it (docs/plugin.md).
        </Alert>
      </PluginPage>
    );
  }
  const picker =
    installed.length > 1 ? (
      <div className={styles.toolbar}>
        <RadioButtonGroup
          aria-label="Scorpio datasource"
          value={uid}
          onChange={setPicked}
          options={installed.map((d) => ({ label: d.name, value: d.uid, description: `uid ${d.uid}` }))}
        />
      </div>
    ) : null;
  return <BackendHealth key={uid} datasourceUid={uid} picker={picker} />;
}

function BackendHealth({ datasourceUid, picker }: { datasourceUid: string; picker: React.ReactNode }) {
  const styles = useStyles2(getStyles);
  const client = useMemo(() => LadClient.forDatasource(datasourceUid), [datasourceUid]);
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [asked, setAsked] = useState(0);

  useEffect(() => {
    let live = true;
    client.health().then(
      (health) => live && setLoad({ state: 'done', health }),
      (err: unknown) => live && setLoad({ state: 'error', message: err instanceof Error ? err.message : String(err) })
    );
    return () => {
      live = false;
    };
  }, [client, asked]);

  const refresh = useCallback(() => {
    setLoad({ state: 'loading' });
    setAsked((n) => n + 1);
  }, []);

  const actions = (
    <Stack direction="row" gap={1}>
      {/* appSubUrl: Grafana may be served under a sub-path (root_url with serve_from_sub_path). */}
      <LinkButton href={`${config.appSubUrl ?? ''}/d/${DASHBOARD_UID}`} variant="primary" icon="apps">
        Open the Log anomalies dashboard
      </LinkButton>
      <Button variant="secondary" onClick={refresh} icon="sync">
        Refresh
      </Button>
    </Stack>
  );

  let body: React.ReactNode;
  if (load.state === 'loading') {
    body = <LoadingPlaceholder text="Asking the Scorpio backend…" />;
  } else if (load.state === 'error') {
    body = (
      <Alert severity="error" title="The Scorpio backend did not answer">
        {load.message}. The page reads it through the datasource with uid “{datasourceUid}”: check that datasource’s
        backend URL.
      </Alert>
    );
  } else {
    const { health } = load;
    body = (
      <>
        <div className={styles.cards}>
          <div className={styles.card}>
            <div className={styles.muted}>Backend</div>
            <div className={styles.cardValue}>
              {health.status} · v{health.version}
            </div>
            <div className={styles.muted}>up {formatAge(health.uptimeSeconds)}</div>
          </div>
          <div className={styles.card}>
            <div className={styles.muted}>False positives learned</div>
            <div className={styles.cardValue} aria-label="False positives in the fact-store">
              {health.factStore.falsePositives}
            </div>
          </div>
          <div className={styles.card}>
            <div className={styles.muted}>Confirmed anomalies</div>
            <div className={styles.cardValue} aria-label="Confirmed anomalies in the fact-store">
              {health.factStore.confirmed}
            </div>
          </div>
          <div className={styles.card}>
            <div className={styles.muted}>Precision of reviewed anomalies</div>
            <div className={styles.cardValue} aria-label="Precision of reviewed anomalies">
              {health.factStore.precision === null ? '–' : `${(health.factStore.precision * 100).toFixed(0)} %`}
            </div>
          </div>
        </div>
        {health.status === 'degraded' && health.problems.length > 0 ? (
          <Alert severity="error" title="The backend is degraded">
            <ul aria-label="Backend problems">
              {health.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </Alert>
        ) : health.resultsStore.lastError ? (
          <Alert severity="warning" title="The results store could not be written">
            {health.resultsStore.lastError}. Recent anomalies may be missing from queries.
          </Alert>
        ) : null}
        {health.sources.length === 0 ? (
          <Alert severity="info" title="No log sources yet">
            Push logs to the backend (Loki push API or POST /api/push?source=NAME) or configure a source; see docs/sources.
          </Alert>
        ) : (
          <table className={styles.table} aria-label="Log sources">
            <thead>
              <tr>
                <th>Source</th>
                <th>State</th>
                <th>Lines/s</th>
                <th>Lines scored</th>
                <th>Anomalies</th>
                <th>Anomaly rate</th>
                <th>Suppressed</th>
                <th>Queue</th>
                <th>Model</th>
                <th>Model age</th>
                <th>Last training</th>
              </tr>
            </thead>
            <tbody>
              {health.sources.map((s) => (
                <tr key={s.name}>
                  <td>
                    {s.name} <span className={styles.muted}>({s.kind})</span>
                    {s.lastError ? <div className={styles.error}>{s.lastError}</div> : null}
                  </td>
                  <td>{s.state}</td>
                  <td className="num">{s.linesPerSecond.toFixed(1)}</td>
                  <td className="num">{s.linesScored}</td>
                  <td className="num">{s.anomalies}</td>
                  <td className="num">{anomalyRate(s)}</td>
                  <td className="num">{s.suppressed}</td>
                  <td className="num">{s.queueDepth}</td>
                  <td>{s.retraining ? `${s.modelState}, retraining` : s.modelState}</td>
                  <td>{formatAge(s.modelAgeSeconds)}</td>
                  <td>{s.lastTrainedAt ? new Date(s.lastTrainedAt).toLocaleString() : '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </>
    );
  }

  return (
    <PluginPage>
      {/* In the page body, not PluginPage's `actions`: those are only drawn by some Grafana page layouts. */}
      {picker}
      <div className={styles.toolbar}>{actions}</div>
      <div>{body}</div>
    </PluginPage>
  );
}
