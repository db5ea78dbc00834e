import React, { useCallback, useMemo } from 'react';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { Combobox, InlineField, InlineFieldRow, InlineSwitch, Input, RadioButtonGroup, type ComboboxOption } from '@grafana/ui';

import { ALL_SOURCES_VALUE as ALL_SOURCES } from '../shared/contract';
import type { LadDataSource } from './datasource';
import { DEFAULT_QUERY, type LadDataSourceOptions, type LadQuery, type LadQueryType } from './types';

type Props = QueryEditorProps<LadDataSource, LadQuery, LadDataSourceOptions>;

export const QUERY_TYPE_OPTIONS: Array<SelectableValue<LadQueryType>> = [
  { label: 'Anomalies', value: 'anomalies', description: 'Anomalous lines, newest first' },
  { label: 'Anomaly rate', value: 'rate', description: 'Anomalies and lines per interval, per source' },
  { label: 'Templates', value: 'templates', description: 'Anomalies grouped by line template' },
  { label: 'Feedback', value: 'feedback', description: 'False positives and confirmed anomalies' },
  { label: 'Review', value: 'review', description: 'Lines whose answer would teach the model most (GET /api/review)' },
  { label: 'Template rates', value: 'template_rates', description: 'Observed and expected lines per interval of the most surprising templates' },
  { label: 'Rate events', value: 'rate_events', description: 'Surges and drops of line templates' },
];

const KIND_OPTIONS: Array<SelectableValue<'' | 'false_positive' | 'confirmed'>> = [
  { label: 'All', value: '' },
  { label: 'False positives', value: 'false_positive' },
  { label: 'Confirmed', value: 'confirmed' },
];

/** Query types read from the rate model (no line search, no suppression). */
const RATE_MODEL_TYPES: ReadonlySet<LadQueryType> = new Set(['template_rates', 'rate_events']);

function parseOptionalNumber(raw: string): number | undefined {
  if (raw.trim() === '') {
    return undefined;
  }
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/** Sources from the backend plus the dashboard's variables (so `$source` can be picked), filtered by the typed text. */
export async function sourceOptions(
  listSources: () => Promise<string[]>,
  variables: Array<{ name: string }>,
  input: string
): Promise<Array<ComboboxOption<string>>> {
  let sources: string[] = [];
  try {
    sources = await listSources();
  } catch {
    // The combobox still offers variables and custom values; the panel shows the backend error on query.
  }
  const all: Array<ComboboxOption<string>> = [
    { label: 'All sources', value: ALL_SOURCES },
    ...variables.map((v) => ({ label: `$${v.name}`, value: `$${v.name}`, description: 'Dashboard variable' })),
    ...sources.map((s) => ({ label: s, value: s })),
  ];
  const needle = input.toLowerCase();
  return needle ? all.filter((o) => (o.label ?? o.value).toLowerCase().includes(needle)) : all;
}

export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  const q = { ...DEFAULT_QUERY, ...query };
  const queryType = q.queryType ?? 'anomalies';

  const update = useCallback(
    (patch: Partial<LadQuery>, run = true) => {
      onChange({ ...query, ...patch });
      if (run) {
        onRunQuery();
      }
    },
    [query, onChange, onRunQuery]
  );

  const loadSources = useCallback(
    (input: string) => sourceOptions(() => datasource.client.sources(), getTemplateSrv().getVariables(), input),
    [datasource]
  );

  const sourceValue = useMemo(
    () => ({ label: q.source ? q.source : 'All sources', value: q.source ?? ALL_SOURCES }),
    [q.source]
  );

  return (
    <div>
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={14}>
          <RadioButtonGroup<LadQueryType>
            options={QUERY_TYPE_OPTIONS}
            value={queryType}
            onChange={(value) => update({ queryType: value })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Source" labelWidth={14} tooltip="A log source, a dashboard variable such as $source, or all sources">
          <Combobox<string>
            id="lad-query-source"
            aria-labelledby="lad-query-source"
            options={loadSources}
            value={sourceValue}
            createCustomValue
            width={30}
            onChange={(option) => update({ source: option.value || undefined })}
          />
        </InlineField>
        {queryType === 'anomalies' || queryType === 'templates' ? (
          <InlineField label="Min score" labelWidth={12} tooltip="Only lines scoring at least this (empty: the model's threshold)">
            <Input
              aria-label="Min score"
              type="number"
              step="0.01"
              width={10}
              defaultValue={q.minScore ?? ''}
              onBlur={(e) => update({ minScore: parseOptionalNumber(e.currentTarget.value) })}
            />
          </InlineField>
        ) : null}
        {queryType !== 'feedback' && queryType !== 'review' && !RATE_MODEL_TYPES.has(queryType) ? (
          <InlineField label="Include suppressed" labelWidth={20} tooltip="Also lines suppressed by false-positive feedback">
            <InlineSwitch
              aria-label="Include suppressed"
              value={Boolean(q.includeSuppressed)}
              onChange={(e) => update({ includeSuppressed: e.currentTarget.checked })}
            />
          </InlineField>
        ) : queryType === 'feedback' ? (
          <InlineField label="Kind" labelWidth={8}>
            <RadioButtonGroup<'' | 'false_positive' | 'confirmed'>
              options={KIND_OPTIONS}
              value={q.kind ?? ''}
              onChange={(value) => update({ kind: value || undefined })}
            />
          </InlineField>
        ) : null}
      </InlineFieldRow>
      {queryType !== 'rate' ? (
        <InlineFieldRow>
          {RATE_MODEL_TYPES.has(queryType) ? null : (
            <InlineField label="Search" labelWidth={14} grow tooltip="Text the line must contain; template variables allowed">
              <Input
                aria-label="Search"
                placeholder="e.g. timeout"
                defaultValue={q.search ?? ''}
                onBlur={(e) => update({ search: e.currentTarget.value || undefined })}
              />
            </InlineField>
          )}
          <InlineField label="Limit" labelWidth={8} tooltip={queryType === 'template_rates' ? 'Templates per source (default 10, at most 100)' : undefined}>
            <Input
              aria-label="Limit"
              type="number"
              min={1}
              width={10}
              defaultValue={q.limit ?? ''}
              onBlur={(e) => {
                const limit = parseOptionalNumber(e.currentTarget.value);
                update({ limit: limit && limit > 0 ? Math.floor(limit) : undefined });
              }}
            />
          </InlineField>
        </InlineFieldRow>
      ) : null}
    </div>
  );
}
