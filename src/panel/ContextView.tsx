import React, { useEffect, useState } from 'react';
import { dateTimeFormat } from '@grafana/data';
import { LoadingPlaceholder } from '@grafana/ui';

import type { LadClient } from '../shared/api';
import type { AnomalyContext, ContextRow } from '../shared/contract';
import type { PanelStyles } from './styles';

interface Props {
  client: LadClient;
  anomalyId: string;
  lines: number;
  timeZone: string;
  styles: PanelStyles;
}

type Load = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; context: AnomalyContext };

/**
 * The lines logged around an anomaly (GET /api/anomalies/:id/context), the anomaly itself highlighted.
 * Callers key it by anomaly id and line count, so a new anomaly starts from "loading" with a fresh mount.
 */
export function ContextView({ client, anomalyId, lines, timeZone, styles }: Props) {
  const [load, setLoad] = useState<Load>({ state: 'loading' });

  useEffect(() => {
    let live = true;
    client.context(anomalyId, lines, lines).then(
      (context) => live && setLoad({ state: 'done', context }),
      (err: unknown) => live && setLoad({ state: 'error', message: err instanceof Error ? err.message : String(err) })
    );
    return () => {
      live = false;
    };
  }, [client, anomalyId, lines]);

  if (load.state === 'loading') {
    return (
      <div className={styles.context}>
        <LoadingPlaceholder text="Loading surrounding lines…" />
      </div>
    );
  }
  if (load.state === 'error') {
    return (
      <div className={styles.context} role="alert">
        <span className={styles.error}>{load.message}</span>
      </div>
    );
  }
  const { anomaly, before, after } = load.context;
  const render = (row: ContextRow, focus: boolean) => (
    <div key={row.id} className={`${styles.contextLine} ${focus ? styles.contextFocus : ''}`} aria-current={focus ? 'true' : undefined}>
      <span>{dateTimeFormat(row.time, { timeZone, format: 'HH:mm:ss.SSS' })}</span>
      <span>{row.line}</span>
    </div>
  );
  return (
    <div className={styles.context} role="group" aria-label="Surrounding log lines">
      {before.length === 0 && after.length === 0 ? <div>No other lines around this one.</div> : null}
      {before.map((r) => render(r, false))}
      {render(anomaly, true)}
      {after.map((r) => render(r, false))}
    </div>
  );
}
