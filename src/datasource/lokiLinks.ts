import { FieldType, type DataFrame } from '@grafana/data';

import type { AnomalyField } from '../shared/contract';

import { LOGS_FIELDS } from './logsFrame';
import type { LadDataSourceOptions } from './types';

/** Where an anomaly's surrounding lines live in Loki: the datasource, and the label that holds the source name. */
export interface LokiLinkSettings {
  datasourceUid: string;
  sourceLabel: string;
  /** Explore opens this long before and after the anomalous line. */
  windowMs: number;
}

export const DEFAULT_LOKI_SOURCE_LABEL = 'job';
const WINDOW_MS = 5 * 60_000;
/** Extra field with each row's Explore pane state (hidden from log details and tables). */
export const LOKI_PANES_FIELD = 'lokiExplore';

export function lokiLinkSettings(jsonData: LadDataSourceOptions | undefined): LokiLinkSettings | undefined {
  const uid = jsonData?.lokiDatasourceUid?.trim();
  if (!uid) {
    return undefined;
  }
  return { datasourceUid: uid, sourceLabel: jsonData?.lokiSourceLabel?.trim() || DEFAULT_LOKI_SOURCE_LABEL, windowMs: WINDOW_MS };
}

/**
 * Explore's `panes` state (public/app/features/explore: schemaVersion 1) for the Loki lines of one source around
 * one time. `&`, `#` and `+` are written as JSON \u escapes: Grafana puts the value into the link with encodeURI
 * (VariableFormatID.UriEncode in @grafana/data getLinksSupplier), which leaves those three as they are.
 */
export function lokiPanes(settings: LokiLinkSettings, source: string, time: number): string {
  const uid = settings.datasourceUid;
  const panes = {
    a: {
      datasource: uid,
      queries: [{ refId: 'A', datasource: { type: 'loki', uid }, expr: `{${settings.sourceLabel}=${JSON.stringify(source)}}` }],
      range: { from: String(time - settings.windowMs), to: String(time + settings.windowMs) },
    },
  };
  return JSON.stringify(panes).replace(/[&#+]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Gives every anomaly of a logs frame an "Open in Explore" data link to its source's lines in Loki around its
 * time. A field's links are the same for every row, so the row's part (source, time) is a per-row hidden field
 * the link's URL names (`${__data.fields.lokiExplore}`).
 */
export function withLokiLinks(frame: DataFrame, settings: LokiLinkSettings | undefined): DataFrame {
  const body = frame.fields.find((f) => f.name === LOGS_FIELDS.body);
  const time = frame.fields.find((f) => f.name === LOGS_FIELDS.time);
  // the anomalies frame's source field, kept by the logs frame (the name is the contract's: a rename fails to compile)
  const source = frame.fields.find((f) => f.name === ('source' satisfies AnomalyField));
  if (!settings || !body || !time || !source) {
    return frame;
  }
  const panes = time.values.map((t, i) => lokiPanes(settings, String(source.values[i] ?? ''), Number(t)));
  const link = { title: 'Open in Explore (Loki, ±5 min)', url: `/explore?schemaVersion=1&panes=\${__data.fields.${LOKI_PANES_FIELD}}` };
  return {
    ...frame,
    fields: [
      ...frame.fields.map((f) => (f === body ? { ...f, config: { ...f.config, links: [...(f.config.links ?? []), link] } } : f)),
      { name: LOKI_PANES_FIELD, type: FieldType.string, values: panes, config: { custom: { hidden: true } } },
    ],
  };
}
