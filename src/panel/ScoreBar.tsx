import React from 'react';
import { useTheme2 } from '@grafana/ui';

import type { PanelStyles } from './styles';

interface Props {
  score: number;
  threshold: number | null;
  styles: PanelStyles;
}

/** Score as a bar with a marker at the model's threshold: how far over the line this line is, at a glance. */
export function ScoreBar({ score, threshold, styles }: Props) {
  const theme = useTheme2();
  const scale = Math.max(score, (threshold ?? score) * 1.5, 1e-9);
  const over = threshold === null || score > threshold;
  const label = threshold === null ? `Score ${score.toFixed(3)}` : `Score ${score.toFixed(3)}, threshold ${threshold.toFixed(3)}`;
  return (
    <span className={styles.scoreWrap}>
      <span
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={Number(scale.toFixed(3))}
        aria-valuenow={Number(score.toFixed(3))}
        className={styles.scoreBar}
        title={label}
      >
        <span
          className={styles.scoreFill}
          style={{
            width: `${Math.min(100, (score / scale) * 100)}%`,
            background: over ? theme.colors.error.main : theme.colors.warning.main,
          }}
        />
        {threshold !== null ? (
          <span className={styles.scoreMarker} style={{ left: `calc(${Math.min(100, (threshold / scale) * 100)}% - 1px)` }} />
        ) : null}
      </span>
      <span className={styles.scoreText}>{score.toFixed(2)}</span>
    </span>
  );
}
