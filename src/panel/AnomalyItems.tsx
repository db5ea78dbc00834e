import React from 'react';
import { dateTimeFormat } from '@grafana/data';

import type { LadClient } from '../shared/api';
import type { FeedbackKind } from '../shared/contract';
import { ContextView } from './ContextView';
import { FeedbackControls } from './FeedbackControls';
import { ScoreBar } from './ScoreBar';
import type { PanelStyles } from './styles';
import type { AnomalyRow, Column, TemplateGroup } from './types';
import type { FeedbackState } from './useFeedback';

interface Common {
  index: number;
  expanded: boolean;
  suppressed: boolean;
  narrow: boolean;
  columns: ReadonlySet<Column>;
  timeZone: string;
  contextLines: number;
  client: LadClient;
  feedback: FeedbackState | undefined;
  onToggle: () => void;
  onSend: (kind: FeedbackKind) => void;
  onUndo: () => void;
  styles: PanelStyles;
}

function domId(prefix: string, key: string): string {
  return `${prefix}-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function Toggle({ expanded, label, controls, onToggle, styles }: { expanded: boolean; label: string; controls: string; onToggle: () => void; styles: PanelStyles }) {
  return (
    <button
      type="button"
      className={styles.toggle}
      data-row-focus
      aria-expanded={expanded}
      aria-controls={controls}
      aria-label={`${expanded ? 'Collapse' : 'Expand'} ${label}`}
      onClick={onToggle}
    >
      {expanded ? '▾' : '▸'}
    </button>
  );
}

/** The item's text (clamped to two lines until expanded) and, when there are any, the details under it. */
function ItemBody({ id, text, details, expanded, styles }: { id: string; text: string; details: React.ReactNode; expanded: boolean; styles: PanelStyles }) {
  return (
    <div className={styles.body}>
      <pre id={id} className={`${styles.line} ${expanded ? '' : styles.lineClamped}`}>
        {text}
      </pre>
      {details ? <div className={`${styles.details} ${expanded ? styles.detailsExpanded : ''}`}>{details}</div> : null}
    </div>
  );
}

/** Feedback buttons for the line (or group example) whose recorded feedback is `recorded`, labelled by `describedBy`. */
function itemControls(props: Common, recorded: string | null, describedBy: string) {
  return (
    <FeedbackControls
      state={props.feedback}
      recorded={recorded}
      describedBy={describedBy}
      onSend={props.onSend}
      onUndo={props.onUndo}
      styles={props.styles}
    />
  );
}

/**
 * The layout both items share: narrow (toggle and meta on a line above the text) or wide (one grid row), then the
 * region the toggle controls, filled with `expandedContent` while expanded.
 */
function ItemFrame(p: {
  suppressed: boolean;
  narrow: boolean;
  styles: PanelStyles;
  toggle: React.ReactNode;
  narrowMeta: React.ReactNode;
  wideCells: React.ReactNode;
  wideStyle?: React.CSSProperties;
  body: React.ReactNode;
  controls: React.ReactNode;
  detailsId: string;
  expandedContent: React.ReactNode;
}) {
  const { styles } = p;
  return (
    <div className={`${styles.itemInner} ${p.suppressed ? styles.suppressed : ''}`} data-suppressed={p.suppressed || undefined}>
      {p.narrow ? (
        <div className={styles.rowNarrow}>
          <div className={styles.meta}>
            {p.toggle}
            {p.narrowMeta}
          </div>
          {p.body}
          {p.controls}
        </div>
      ) : (
        <div className={styles.rowWide} style={p.wideStyle}>
          {p.toggle}
          {p.wideCells}
          {p.body}
          {p.controls}
        </div>
      )}
      <div id={p.detailsId}>{p.expandedContent}</div>
    </div>
  );
}

/** One anomalous line: meta, the line (clamped to two lines until expanded), template/reason, feedback buttons. */
export function LineItem(props: Common & { row: AnomalyRow }) {
  const { row, expanded, suppressed, narrow, columns, styles } = props;
  const lineId = domId('lad-line', row.id);
  const detailsId = domId('lad-details', row.id);
  const time = columns.has('time') ? (
    <span className={styles.time}>{dateTimeFormat(row.time, { timeZone: props.timeZone })}</span>
  ) : null;
  const source = columns.has('source') && row.source ? <span className={styles.source}>{row.source}</span> : null;
  const score = columns.has('score') ? <ScoreBar score={row.score} threshold={row.threshold} styles={styles} /> : null;
  const details = [
    columns.has('template') && row.template ? (
      <span key="t">
        template <span className={styles.templateText}>{row.template}</span>
      </span>
    ) : null,
    columns.has('reason') && row.reason ? <span key="r"> · {row.reason}</span> : null,
  ].filter(Boolean);
  const body = <ItemBody id={lineId} text={row.line} details={details.length ? details : null} expanded={expanded} styles={styles} />;
  const controls = itemControls(props, row.feedback, lineId);
  const toggle = <Toggle expanded={expanded} label="line and its context" controls={detailsId} onToggle={props.onToggle} styles={styles} />;
  return (
    <ItemFrame
      suppressed={suppressed}
      narrow={narrow}
      styles={styles}
      toggle={toggle}
      narrowMeta={
        <>
          {time}
          {source}
          {score}
        </>
      }
      wideCells={
        <>
          {time ?? <span />}
          {source ?? <span />}
          {score ?? <span />}
        </>
      }
      body={body}
      controls={controls}
      detailsId={detailsId}
      expandedContent={
        expanded ? (
          <ContextView key={`${row.id}:${props.contextLines}`} client={props.client} anomalyId={row.id} lines={props.contextLines} timeZone={props.timeZone} styles={styles} />
        ) : null
      }
    />
  );
}

const GROUP_LINES_SHOWN = 20;
/** A group's meta is one cell (count, time, source, score), so its wide row has four columns, not six. */
const GROUP_WIDE_COLUMNS: React.CSSProperties = { gridTemplateColumns: 'auto auto minmax(0, 1fr) auto' };

/** One kind of anomaly: template, count, newest example; expanding lists its latest lines and the example's context. */
export function GroupItem(props: Common & { group: TemplateGroup }) {
  const { group, expanded, suppressed, narrow, columns, styles } = props;
  const example = group.rows[0];
  const templateId = domId('lad-group', group.key);
  const detailsId = domId('lad-group-details', group.key);
  const meta = (
    <>
      <span className={styles.count} aria-label={`${group.count} lines`}>
        ×{group.count}
      </span>
      {columns.has('time') ? (
        <span className={styles.time}>last {dateTimeFormat(group.lastTime, { timeZone: props.timeZone })}</span>
      ) : null}
      {columns.has('source') && group.source ? <span className={styles.source}>{group.source}</span> : null}
      {columns.has('score') ? <ScoreBar score={group.maxScore} threshold={group.threshold} styles={styles} /> : null}
    </>
  );
  const details = (
    <>
      e.g. <span className={styles.templateText}>{example.line}</span>
      {columns.has('reason') && example.reason ? <span> · {example.reason}</span> : null}
    </>
  );
  const body = <ItemBody id={templateId} text={group.template} details={details} expanded={expanded} styles={styles} />;
  const controls = itemControls(props, example.feedback, templateId);
  const toggle = <Toggle expanded={expanded} label={`group of ${group.count} lines`} controls={detailsId} onToggle={props.onToggle} styles={styles} />;
  return (
    <ItemFrame
      suppressed={suppressed}
      narrow={narrow}
      styles={styles}
      toggle={toggle}
      narrowMeta={meta}
      wideCells={<span className={styles.meta}>{meta}</span>}
      wideStyle={GROUP_WIDE_COLUMNS}
      body={body}
      controls={controls}
      detailsId={detailsId}
      expandedContent={
        expanded ? (
          <>
            <div className={styles.context} role="group" aria-label={`Latest lines of this template`}>
              {group.rows.slice(0, GROUP_LINES_SHOWN).map((r) => (
                <div key={r.id} className={styles.contextLine}>
                  <span>{dateTimeFormat(r.time, { timeZone: props.timeZone, format: 'HH:mm:ss.SSS' })}</span>
                  <span>{r.line}</span>
                </div>
              ))}
              {group.count > GROUP_LINES_SHOWN ? <div>… and {group.count - GROUP_LINES_SHOWN} more</div> : null}
            </div>
            <ContextView key={`${example.id}:${props.contextLines}`} client={props.client} anomalyId={example.id} lines={props.contextLines} timeZone={props.timeZone} styles={styles} />
          </>
        ) : null
      }
    />
  );
}
