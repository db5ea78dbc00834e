import React, { useEffect } from 'react';
import type { QueryEditorProps } from '@grafana/data';
import { InlineField, RadioButtonGroup } from '@grafana/ui';

import type { LadDataSource } from './datasource';
import type { LadDataSourceOptions, LadQuery } from './types';
import { toVariableQuery, type LadVariableQuery } from './variableQuery';

type Props = QueryEditorProps<LadDataSource, LadQuery, LadDataSourceOptions, LadVariableQuery>;

/** The variable query editor: what the variable lists (today: the backend's log sources). */
export function VariableQueryEditor({ query, onChange }: Props) {
  let current: LadVariableQuery | undefined;
  try {
    current = toVariableQuery(query);
  } catch {
    current = undefined;
  }
  // A query saved by the old string API becomes the typed one the first time the editor opens.
  useEffect(() => {
    if (current && (typeof query !== 'object' || query === null)) {
      onChange(current);
    }
  }, [current, query, onChange]);
  return (
    <InlineField label="Values" labelWidth={14} tooltip="What the variable offers" invalid={!current} error={current ? undefined : 'Unknown query: pick one'}>
      <RadioButtonGroup<LadVariableQuery['kind']>
        value={current?.kind}
        onChange={(kind) => onChange({ ...(current ?? { refId: 'LadVariable' }), kind })}
        options={[{ label: 'Log sources', value: 'sources', description: 'Every source the backend knows' }]}
      />
    </InlineField>
  );
}
