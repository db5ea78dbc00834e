export const COLUMNS = ['time', 'source', 'score', 'template', 'reason'] as const;
export type Column = (typeof COLUMNS)[number];

export interface PanelOptions {
  /** Suppressed lines (false positives, by the backend or by a click here) greyed out when true, hidden when false. */
  showSuppressed: boolean;
  /** How the panel opens: every line, one row per template with a count, or the review queue. */
  grouping: 'lines' | 'templates' | 'review';
  maxRows: number;
  columns: Column[];
  /** Lines before and after an anomaly shown when it is expanded. */
  contextLines: number;
  /** Datasource for feedback and context; empty = the datasource of the panel's query. */
  datasourceUid: string;
}

export const DEFAULT_OPTIONS: PanelOptions = {
  showSuppressed: false,
  grouping: 'lines',
  maxRows: 5000,
  columns: [...COLUMNS],
  contextLines: 10,
  datasourceUid: '',
};

/** One anomalous line of the datasource's `anomalies` frame. */
export interface AnomalyRow {
  id: string;
  /** refId of the frame it came from: which query (and so which datasource, in a Mixed panel) produced it. */
  refId: string;
  time: number;
  source: string;
  score: number;
  threshold: number | null;
  line: string;
  template: string;
  reason: string;
  suppressed: boolean;
  /** Feedback already recorded for this line at query time ("false_positive" | "confirmed"), if any. */
  feedback: string | null;
}

/** Anomalies of one kind (same source and template) read as one row. */
export interface TemplateGroup {
  key: string;
  source: string;
  template: string;
  count: number;
  maxScore: number;
  threshold: number | null;
  lastTime: number;
  /** Newest first; rows[0] is the example shown. */
  rows: AnomalyRow[];
}
