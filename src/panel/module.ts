import { PanelPlugin, type SelectableValue } from '@grafana/data';

import { AnomalyPanel } from './AnomalyPanel';
import { COLUMNS, DEFAULT_OPTIONS, type Column, type PanelOptions } from './types';

const COLUMN_LABELS: Record<Column, string> = {
  time: 'Time',
  source: 'Source',
  score: 'Score',
  template: 'Template',
  reason: 'Reason',
};

export const plugin = new PanelPlugin<PanelOptions>(AnomalyPanel).setPanelOptions((builder) =>
  builder
    .addBooleanSwitch({
      path: 'showSuppressed',
      name: 'Show suppressed lines',
      description: 'Grey out lines suppressed as false positives instead of hiding them',
      defaultValue: DEFAULT_OPTIONS.showSuppressed,
    })
    .addRadio({
      path: 'grouping',
      name: 'Default grouping',
      description: 'Every line, one row per template with a count, or the review queue',
      defaultValue: DEFAULT_OPTIONS.grouping,
      settings: {
        options: [
          { value: 'lines', label: 'Lines' },
          { value: 'templates', label: 'By template' },
          { value: 'review', label: 'Review' },
        ],
      },
    })
    .addNumberInput({
      path: 'maxRows',
      name: 'Max rows',
      description: 'Newest anomalies kept from the query result',
      defaultValue: DEFAULT_OPTIONS.maxRows,
      settings: { min: 1, integer: true },
    })
    .addMultiSelect({
      path: 'columns',
      name: 'Columns shown',
      description: 'The line and the feedback buttons are always shown',
      defaultValue: DEFAULT_OPTIONS.columns,
      // The builder types a multi-select's options with the array type of the option; each option is one column.
      settings: { options: COLUMNS.map((c) => ({ value: c, label: COLUMN_LABELS[c] })) as unknown as Array<SelectableValue<Column[]>> },
    })
    .addNumberInput({
      path: 'contextLines',
      name: 'Context lines',
      description: 'Lines before and after an expanded anomaly',
      defaultValue: DEFAULT_OPTIONS.contextLines,
      settings: { min: 0, max: 200, integer: true },
    })
    .addTextInput({
      path: 'datasourceUid',
      name: 'Feedback datasource uid',
      description: 'Scorpio datasource that receives feedback; empty = the datasource of the query',
      defaultValue: DEFAULT_OPTIONS.datasourceUid,
    })
);
