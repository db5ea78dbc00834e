import React, { useCallback, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { LoadingState, type PanelProps } from '@grafana/data';
import { config } from '@grafana/runtime';
import { Button, RadioButtonGroup, useStyles2 } from '@grafana/ui';
import { areEqual, VariableSizeList, type ListChildComponentProps } from 'react-window';

import { LadClient } from '../shared/api';
import { scorpioDatasources, scorpioUidOf } from '../shared/scorpioDatasources';
import { GroupItem, LineItem } from './AnomalyItems';
import { isAllSources, type FeedbackKind } from '../shared/contract';
import { isReviewFrame, reviewRowsFromFrames } from './review';
import { ReviewView, useFetchedReview } from './ReviewView';
import { emptyState } from './emptyState';
import { arrowTarget } from './keyboard';
import { RateEventItem } from './RateEventItem';
import { isRateEventKey, rateEventExample, rateEventRowsFromFrames, type RateEventRow } from './rateEvents';
import { anomalyRowsFromFrames, groupByTemplate, isAnomalyFrame, templateKey } from './rows';
import { getPanelStyles, type PanelStyles } from './styles';
import { DEFAULT_OPTIONS, type AnomalyRow, type Column, type PanelOptions, type TemplateGroup } from './types';
import { useFeedback, type FeedbackApi } from './useFeedback';

type Props = PanelProps<PanelOptions>;
type Item =
  | { kind: 'line'; key: string; row: AnomalyRow; suppressed: boolean }
  | { kind: 'group'; key: string; group: TemplateGroup; suppressed: boolean }
  | { kind: 'rate'; key: string; event: RateEventRow; suppressed: boolean };

/** The notice after an answer: a rate event's answers are about its rate, not a false positive line to suppress. */
function noticeOf(last: { key: string; kind: FeedbackKind }): string {
  if (isRateEventKey(last.key)) {
    return last.kind === 'false_positive' ? 'Answered not an anomaly' : 'Answered anomaly';
  }
  return last.kind === 'false_positive' ? 'Marked as false positive' : 'Confirmed as anomaly';
}

/** When an item happened: a line's time, a rate event's interval start. */
function itemTime(item: Item): number {
  return item.kind === 'line' ? item.row.time : item.kind === 'rate' ? item.event.time : item.group.lastTime;
}

const NO_DATASOURCE = 'No Scorpio datasource answers for this line: set "Feedback datasource uid" in the panel options';

/** Below this width rows stack (meta, line, buttons) instead of one grid line. */
export const NARROW_WIDTH = 720;
const TOOLBAR_HEIGHT = 36;
const NOTICE_HEIGHT = 36;
const ROW_HEIGHT = { wide: 76, narrow: 136 };
const EXPANDED_ESTIMATE = 320;

/**
 * Which Scorpio datasource answers for a row (its feedback and context): the panel option when set, else the
 * datasource of the query that produced the row, else the organisation's first Scorpio datasource. Grafana gives
 * every target of the request its datasource ref, the panel's or, in a Mixed panel, its own
 * (public/app/features/query/state/PanelQueryRunner.ts), so a row's refId leads to its datasource.
 */
export function datasourceResolver(props: Pick<Props, 'data' | 'options' | 'replaceVariables'>): (row: Pick<AnomalyRow, 'refId'>) => string | undefined {
  const interpolate = (s: string) => (props.replaceVariables ? props.replaceVariables(s) : s);
  const explicit = props.options.datasourceUid?.trim();
  if (explicit) {
    const uid = interpolate(explicit);
    return () => uid;
  }
  const byRefId = new Map<string, string>();
  for (const target of props.data.request?.targets ?? []) {
    const ref = target.datasource;
    const uid = scorpioUidOf(ref?.uid ? { ...ref, uid: interpolate(ref.uid) } : ref);
    if (uid) {
      byRefId.set(target.refId, uid);
    }
  }
  let fallback: string | null | undefined = null;
  return (row) => {
    const uid = byRefId.get(row.refId);
    if (uid) {
      return uid;
    }
    if (fallback === null) {
      fallback = scorpioDatasources()[0]?.uid;
    }
    return fallback;
  };
}

/** Items asked per source: a queue is for people answering it. */
const REVIEW_LIMIT = 20;

/**
 * The sources the panel's queries name (a target's `source`, variables interpolated, `a,b` or `{a,b}` lists split),
 * else the sources of its anomaly rows; empty means every source the backend has.
 */
export function panelSources(data: Props['data'], rows: readonly AnomalyRow[], replaceVariables?: (s: string) => string): string[] {
  const named = new Set<string>();
  for (const target of data.request?.targets ?? []) {
    const raw = (target as { source?: unknown }).source;
    if (typeof raw === 'string' && raw.trim()) {
      const value = replaceVariables ? replaceVariables(raw) : raw;
      value.split(/[{},]/).map((s) => s.trim()).filter((s) => !isAllSources(s) && !s.startsWith('$')).forEach((s) => named.add(s));
    }
  }
  if (named.size === 0) {
    rows.forEach((r) => r.source && named.add(r.source));
  }
  return [...named].sort();
}

/** Reports the natural height of an expanded row so the virtual list can make room for it. */
function Measured({
  index,
  active,
  onSize,
  children,
}: {
  index: number;
  active: boolean;
  onSize: (index: number, height: number) => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !active) {
      return;
    }
    const report = () => onSize(index, el.getBoundingClientRect().height);
    report();
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(report);
    observer.observe(el);
    return () => observer.disconnect();
  }, [index, active, onSize]);
  return <div ref={ref}>{children}</div>;
}

export function AnomalyPanel(props: Props) {
  const { data, width, height, timeZone } = props;
  const options = { ...DEFAULT_OPTIONS, ...props.options };
  const styles = useStyles2(getPanelStyles);
  const uidOf = useMemo(
    () => datasourceResolver({ data, options: props.options, replaceVariables: props.replaceVariables }),
    [data, props.options, props.replaceVariables]
  );
  // One client per datasource uid, kept across renders so the rows' effects (context loads) do not rerun.
  const clients = useRef(new Map<string, LadClient>());
  const clientOf = useCallback(
    (row: Pick<AnomalyRow, 'refId'>) => {
      const uid = uidOf(row) ?? '';
      let client = clients.current.get(uid);
      if (!client) {
        client = uid ? LadClient.forDatasource(uid) : LadClient.unavailable(NO_DATASOURCE);
        clients.current.set(uid, client);
      }
      return client;
    },
    [uidOf]
  );
  // Who clicked goes into the fact-store record (Grafana's signed-in login; absent for anonymous viewers).
  const feedback = useFeedback(clientOf, config.bootData?.user?.login || undefined);
  // A `review` query's frame in the panel's data is its review queue; without one the Review view asks the backend.
  const reviewFromData = useMemo(() => (data.series.some(isReviewFrame) ? reviewRowsFromFrames(data.series) : null), [data.series]);
  const [grouping, setGrouping] = useState(reviewFromData && !data.series.some(isAnomalyFrame) ? 'review' : options.grouping);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const listRef = useRef<VariableSizeList>(null);
  const sizes = useRef(new Map<string, number>());
  const narrow = width < NARROW_WIDTH;
  const columns = useMemo(() => new Set(options.columns), [options.columns]);

  const hasAnomalyFrame = data.series.some(isAnomalyFrame);
  const rows = useMemo(() => anomalyRowsFromFrames(data.series, options.maxRows), [data.series, options.maxRows]);
  // Surges and drops of a `rate_events` query: rows of their own in the Lines view, among the lines by time.
  const rateEvents = useMemo(() => rateEventRowsFromFrames(data.series), [data.series]);
  const reviewSources = useMemo(() => panelSources(props.data, rows, props.replaceVariables), [props.data, rows, props.replaceVariables]);
  const reviewRefId = data.request?.targets?.[0]?.refId ?? rows[0]?.refId ?? 'A';
  // The review answers recorded here: each change reloads the queue (answered items leave it, undone ones return).
  // 'undoing' still counts: the queue is asked again once the DELETE is through, not while it is in flight.
  const reviewAnswers = useMemo(
    () =>
      Object.entries(feedback.states)
        .filter(([key, s]) => key.startsWith('review:') && (s.status === 'done' || s.status === 'undoing'))
        .map(([key]) => key)
        .sort()
        .join('\n'),
    [feedback.states]
  );
  const review = useFetchedReview(grouping === 'review', reviewFromData, reviewSources, reviewRefId, clientOf, REVIEW_LIMIT, reviewAnswers);

  const isSuppressed = useCallback(
    (row: AnomalyRow) =>
      row.suppressed ||
      feedback.suppressedKeys.has(templateKey(row)) ||
      (feedback.states[row.id]?.status === 'done' && feedback.states[row.id]?.kind === 'false_positive'),
    [feedback.suppressedKeys, feedback.states]
  );

  const items: Item[] = useMemo(() => {
    if (grouping === 'templates') {
      return groupByTemplate(rows)
        .map((group): Item => ({ kind: 'group', key: `g:${group.key}`, group, suppressed: group.rows.every(isSuppressed) }))
        .filter((item) => options.showSuppressed || !item.suppressed);
    }
    const lines = rows
      .map((row): Item => ({ kind: 'line', key: row.id, row, suppressed: isSuppressed(row) }))
      .filter((item) => options.showSuppressed || !item.suppressed);
    const events = rateEvents.map((event): Item => ({ kind: 'rate', key: event.key, event, suppressed: false }));
    // newest first; a stable sort keeps the lines' own order (time, then score) among equal times
    return events.length === 0 ? lines : [...lines, ...events].sort((a, b) => itemTime(b) - itemTime(a));
  }, [grouping, rows, rateEvents, isSuppressed, options.showSuppressed]);
  const hiddenCount = (grouping === 'templates' ? groupByTemplate(rows).length : rows.length + rateEvents.length) - items.length;

  const collapsed = narrow ? ROW_HEIGHT.narrow : ROW_HEIGHT.wide;
  const itemSize = useCallback(
    (index: number) => {
      const item = items[index];
      return item && expanded.has(item.key) ? (sizes.current.get(item.key) ?? EXPANDED_ESTIMATE) : collapsed;
    },
    [items, expanded, collapsed]
  );

  // Sizes depend on the items, their expansion and the width: recompute every offset when any of them changes.
  useLayoutEffect(() => {
    listRef.current?.resetAfterIndex(0, true);
  }, [items, expanded, collapsed]);

  const onSize = useCallback(
    (index: number, size: number) => {
      const item = items[index];
      if (!item || size <= 0 || Math.abs((sizes.current.get(item.key) ?? 0) - size) < 1) {
        return;
      }
      sizes.current.set(item.key, Math.ceil(size));
      listRef.current?.resetAfterIndex(index, true);
    },
    [items]
  );

  const toggle = useCallback((key: string) => {
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(key)) {
        next.delete(key);
      } else {
        next.add(key);
      }
      return next;
    });
  }, []);

  // Arrow keys move between rows; the list is virtual, so scroll the target row in before focusing it.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const next = arrowTarget(event);
    if (next === null || next < 0 || next >= items.length) {
      return;
    }
    event.preventDefault();
    listRef.current?.scrollToItem(next);
    const container = event.currentTarget;
    requestAnimationFrame(() => container.querySelector<HTMLElement>(`[data-index="${next}"] [data-row-focus]`)?.focus());
  };

  const itemData: RowData = useMemo(
    () => ({ items, expanded, narrow, columns, timeZone, contextLines: options.contextLines, clientOf, feedback, toggle, styles, onSize }),
    [items, expanded, narrow, columns, timeZone, options.contextLines, clientOf, feedback, toggle, styles, onSize]
  );

  const empty = items.length === 0 ? emptyState(data, hasAnomalyFrame, rows.length) : undefined;
  const last = feedback.lastAction;
  const listHeight = Math.max(0, height - TOOLBAR_HEIGHT - (last ? NOTICE_HEIGHT : 0));
  // No count while nothing is known (loading, or failed with no rows): "0 anomalies" would be the all-clear again.
  const unknown = empty !== undefined && (empty.failed || data.state === LoadingState.Loading || data.state === LoadingState.NotStarted);
  const counted = grouping === 'templates' ? `${items.length} templates, ${rows.length} lines` : `${items.length} anomalies`;
  const reviewOpen = review.state === 'done' ? review.items.filter((i) => !['done', 'undoing'].includes(feedback.states[i.key]?.status ?? '')).length : 0;
  const reviewCount = review.state === 'done' ? `${reviewOpen} to review` : '';
  const total = grouping === 'review' ? reviewCount : unknown ? '' : counted;

  return (
    <div className={styles.root} style={{ width, height }}>
      <div className={styles.toolbar} style={{ height: TOOLBAR_HEIGHT }}>
        <RadioButtonGroup<PanelOptions['grouping']>
          size="sm"
          value={grouping}
          onChange={(v) => setGrouping(v)}
          options={[
            { label: 'Lines', value: 'lines', description: 'Every anomalous line' },
            { label: 'By template', value: 'templates', description: 'One row per kind of line, with a count' },
            { label: 'Review', value: 'review', description: 'The lines whose answer teaches the model most' },
          ]}
        />
        <span className={styles.toolbarSpacer} />
        <span aria-live="polite">
          {total}
          {hiddenCount > 0 && grouping !== 'review' ? ` (${hiddenCount} suppressed hidden)` : ''}
        </span>
      </div>
      {last ? (
        <div className={styles.notice} role="status" style={{ height: NOTICE_HEIGHT - 4, marginBottom: 4 }}>
          <span className={styles.noticeText}>
            {noticeOf(last)}: <code>{last.excerpt}</code>
          </span>
          <span className={styles.toolbarSpacer} />
          <Button size="sm" variant="secondary" onClick={() => void feedback.undo(last.key)} disabled={feedback.states[last.key]?.status === 'undoing'}>
            Undo
          </Button>
          <Button size="sm" variant="secondary" fill="text" aria-label="Dismiss" onClick={feedback.dismissLast}>
            ×
          </Button>
        </div>
      ) : null}
      {grouping === 'review' ? (
        <ReviewView
          load={review}
          anomalies={rows}
          feedback={feedback}
          clientOf={clientOf}
          contextLines={options.contextLines}
          timeZone={timeZone}
          height={listHeight}
          styles={styles}
        />
      ) : empty ? (
        <div className={empty.failed ? styles.emptyError : styles.empty} role={empty.failed ? 'alert' : 'status'}>
          {empty.text}
        </div>
      ) : (
        <div onKeyDown={onKeyDown}>
          <VariableSizeList
            ref={listRef}
            className={styles.list}
            height={listHeight}
            width={width}
            itemCount={items.length}
            itemSize={itemSize}
            estimatedItemSize={collapsed}
            itemKey={(index) => items[index].key}
            overscanCount={4}
            innerElementType={ListInner}
            itemData={itemData}
          >
            {RowRenderer}
          </VariableSizeList>
        </div>
      )}
    </div>
  );
}

interface RowData {
  items: Item[];
  expanded: ReadonlySet<string>;
  narrow: boolean;
  columns: ReadonlySet<Column>;
  timeZone: string;
  contextLines: number;
  clientOf: (row: Pick<AnomalyRow, 'refId'>) => LadClient;
  feedback: FeedbackApi;
  toggle: (key: string) => void;
  styles: PanelStyles;
  onSize: (index: number, height: number) => void;
}

/**
 * One row of the virtual list. A stable component (state arrives through itemData) so that a click re-renders
 * rows instead of remounting them: focus and in-flight state stay on the same elements.
 */
const RowRenderer = React.memo(function RowRenderer({ index, style, data }: ListChildComponentProps<RowData>) {
  const { items, expanded, feedback, toggle, styles } = data;
  const item = items[index];
  const isOpen = expanded.has(item.key);
  const common = {
    index,
    expanded: isOpen,
    suppressed: item.suppressed,
    narrow: data.narrow,
    columns: data.columns,
    timeZone: data.timeZone,
    contextLines: data.contextLines,
    client: data.clientOf(item.kind === 'line' ? item.row : item.kind === 'rate' ? item.event : item.group.rows[0]),
    feedback: feedback.states[item.key],
    onToggle: () => toggle(item.key),
    onUndo: () => void feedback.undo(item.key),
    styles,
  };
  const content =
    item.kind === 'rate' ? (
      <RateEventItem
        event={item.event}
        narrow={data.narrow}
        timeZone={data.timeZone}
        feedback={common.feedback}
        onSend={(kind) => void feedback.send(item.key, rateEventExample(item.event), kind, [])}
        onUndo={common.onUndo}
        styles={styles}
      />
    ) : item.kind === 'line' ? (
      <LineItem {...common} row={item.row} onSend={(kind) => void feedback.send(item.key, item.row, kind, [item.row])} />
    ) : (
      <GroupItem {...common} group={item.group} onSend={(kind) => void feedback.send(item.key, item.group.rows[0], kind, item.group.rows)} />
    );
  return (
    <div style={style} className={styles.item} role="listitem" data-index={index}>
      {/* Always wrapped (measuring only when open) so expanding re-renders the row instead of remounting it. */}
      <Measured index={index} active={isOpen} onSize={data.onSize}>
        {content}
      </Measured>
    </div>
  );
}, areEqual);

/** The list's inner element carries the list role so screen readers count the (virtual) rows. */
const ListInner = React.forwardRef<HTMLDivElement, React.HTMLAttributes<HTMLDivElement>>(function ListInner(props, ref) {
  return <div ref={ref} role="list" aria-label="Anomalous log lines" {...props} />;
});
