import {
  DataSourceApi,
  type AnnotationQuery,
  type AnnotationSupport,
  type CoreApp,
  type DataFrame,
  type DataFrameJSON,
  type DataQueryError,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type DataSourceWithLogsContextSupport,
  LogRowContextQueryDirection,
  type LogRowContextOptions,
  type LogRowModel,
  type ScopedVars,
  type TestDataSourceResponse,
} from '@grafana/data';
import { getTemplateSrv, type TemplateSrv } from '@grafana/runtime';
import { from, of, type Observable } from 'rxjs';

import { LadClient } from '../shared/api';
import { queryResponseSchema, selectedSources as namedSources } from '../shared/contract';
import { DEFAULT_QUERY, type LadDataSourceOptions, type LadQuery, type LadQueryBody, type LadTarget } from './types';
import { anomalyAnnotations, framesFromJSON, rateEventAnnotations } from './frames';
import { contextLogsFrame, LOGS_FIELDS } from './logsFrame';
import { lokiLinkSettings, type LokiLinkSettings } from './lokiLinks';
import { LadVariableSupport } from './variables';

/**
 * The sources a (possibly multi-value) variable expands to; undefined for "All" or nothing. Several go to the
 * backend in ONE target (an array), so "top templates" ranks across them and anomalies come in one frame.
 */
function selectedSources(value: string): string | string[] | undefined {
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const names = parts.length === 0 ? undefined : namedSources(parts);
  return names === undefined ? undefined : names.length === 1 ? names[0] : names;
}

function timeOf(t: number | string): number {
  return typeof t === 'number' ? t : Date.parse(t);
}

export class LadDataSource extends DataSourceApi<LadQuery, LadDataSourceOptions> implements DataSourceWithLogsContextSupport<LadQuery> {
  readonly client: LadClient;
  readonly annotations: AnnotationSupport<LadQuery>;
  /** Where "Open in Explore" links of anomalies point (none without a Loki datasource in the settings). */
  private readonly loki: LokiLinkSettings | undefined;

  constructor(
    instanceSettings: DataSourceInstanceSettings<LadDataSourceOptions>,
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    // instanceSettings.url is Grafana's data proxy URL for this datasource; `/lad` is the plugin.json route.
    this.client = new LadClient(`${instanceSettings.url ?? ''}/lad`);
    this.variables = new LadVariableSupport(this);
    this.loki = lokiLinkSettings(instanceSettings.jsonData);
    this.annotations = {
      // Annotations show anomalies, or rate anomalies (surges and drops) when the stored query reads the rate model.
      prepareQuery: (anno: AnnotationQuery<LadQuery>) => ({
        ...DEFAULT_QUERY,
        ...(anno.target ?? {}),
        refId: anno.target?.refId ?? 'Anno',
        queryType: anno.target?.queryType === 'rate_events' || anno.target?.queryType === 'template_rates' ? 'rate_events' : 'anomalies',
      }),
      processEvents: (_anno, frames) => of([...anomalyAnnotations(frames), ...rateEventAnnotations(frames)]),
    };
  }

  getDefaultQuery(_app: CoreApp): Partial<LadQuery> {
    return DEFAULT_QUERY;
  }

  filterQuery(query: LadQuery): boolean {
    return !query.hide;
  }

  /** The backend target of one panel query: defaults filled in, variables interpolated, several sources as a list. */
  toTarget(query: LadQuery, scopedVars: ScopedVars): LadTarget {
    const q = { ...DEFAULT_QUERY, ...query };
    const source = selectedSources(this.templateSrv.replace(q.source ?? '', scopedVars, 'csv'));
    const search = q.search ? this.templateSrv.replace(q.search, scopedVars) : undefined;
    const target: LadTarget = { refId: q.refId, queryType: q.queryType ?? 'anomalies' };
    if (source) {
      target.source = source;
    }
    if (q.minScore !== undefined && q.minScore !== null && !Number.isNaN(q.minScore)) {
      target.minScore = q.minScore;
    }
    if (q.includeSuppressed !== undefined) {
      target.includeSuppressed = q.includeSuppressed;
    }
    if (search) {
      target.search = search;
    }
    // template_rates plots `limit` templates: the panel default (1000 rows) would be 100 series, not its 10
    const limit = q.queryType === 'template_rates' ? query.limit : q.limit;
    if (limit) {
      target.limit = limit;
    }
    if (q.queryType === 'feedback' && q.kind) {
      target.kind = q.kind;
    }
    return target;
  }

  /**
   * The queries with this dashboard's variables filled in. Grafana calls it when a panel opens in Explore
   * (public/app/core/utils/explore.ts getExploreUrl), where the dashboard's variables do not exist: without it
   * `$source` would reach the backend literally. A multi-value source becomes a comma list, which toTarget sends as a list.
   */
  interpolateVariablesInQueries(queries: LadQuery[], scopedVars: ScopedVars): LadQuery[] {
    return queries.map((query) => {
      const out: LadQuery = { ...query, datasource: this.getRef() };
      if (query.source) {
        out.source = this.templateSrv.replace(query.source, scopedVars, 'csv');
      }
      if (query.search) {
        out.search = this.templateSrv.replace(query.search, scopedVars);
      }
      return out;
    });
  }

  buildQueryBody(request: DataQueryRequest<LadQuery>): LadQueryBody {
    return {
      range: { from: request.range.from.valueOf(), to: request.range.to.valueOf() },
      intervalMs: request.intervalMs,
      maxDataPoints: request.maxDataPoints ?? 1000,
      targets: request.targets.filter((t) => this.filterQuery(t)).map((t) => this.toTarget(t, request.scopedVars)),
    };
  }

  query(request: DataQueryRequest<LadQuery>): Observable<DataQueryResponse> {
    const body = this.buildQueryBody(request);
    if (body.targets.length === 0) {
      return of({ data: [] });
    }
    return from(this.runQuery(body));
  }

  private async runQuery(body: LadQueryBody): Promise<DataQueryResponse> {
    const response = await this.client.request('Query', 'POST', '/api/query', queryResponseSchema, body);
    const data: DataFrame[] = [];
    const errors: DataQueryError[] = [];
    for (const target of body.targets) {
      const result = response.results[target.refId];
      if (result?.error) {
        errors.push({ refId: target.refId, message: result.error });
      }
      data.push(...framesFromJSON((result?.frames ?? []) as DataFrameJSON[], target.refId, target.queryType, this.loki));
    }
    return errors.length ? { data, errors, error: errors[0] } : { data };
  }

  /**
   * Logs context (Explore's and the Logs panel's "Show context"): the lines of the same source just before or after
   * an anomalous line, from GET /api/anomalies/:id/context, newest first as Grafana's context view lists them.
   */
  async getLogRowContext(row: LogRowModel, options?: LogRowContextOptions): Promise<DataQueryResponse> {
    const idField = row.dataFrame.fields.find((f) => f.name === LOGS_FIELDS.id);
    const id = row.rowId ?? (idField ? String(idField.values[row.rowIndex] ?? '') : '');
    if (!id) {
      return { data: [] };
    }
    const limit = Math.max(1, Math.min(options?.limit ?? 50, 500));
    const forward = options?.direction === LogRowContextQueryDirection.Forward;
    const context = await this.client.context(id, forward ? 0 : limit, forward ? limit : 0);
    const rows = (forward ? context.after : context.before).slice().sort((a, b) => timeOf(b.time) - timeOf(a.time));
    return { data: [contextLogsFrame(rows, row.dataFrame.refId ?? 'context')] };
  }

  async testDatasource(): Promise<TestDataSourceResponse> {
    try {
      const health = await this.client.health();
      const ready = health.sources.filter((s) => s.modelState === 'ready').length;
      const summary = health.sources.map((s) => `${s.name} (${s.kind}, model ${s.modelState})`).join(', ');
      const errors = health.sources.filter((s) => s.lastError).map((s) => `${s.name}: ${s.lastError}`);
      const message =
        `Scorpio ${health.version} is ${health.status}: ${health.sources.length} source(s)` +
        (summary ? ` — ${summary}` : ' — none yet: push logs or configure a source') +
        `; ${ready} model(s) ready; fact-store ${health.factStore.falsePositives} false positive(s), ${health.factStore.confirmed} confirmed.`;
      const problems: string[] = [];
      if ((await this.client.canWrite()) === 'denied') {
        problems.push('Feedback will be refused: the backend refused this token, or this user\'s role may not send feedback (Editor).');
      }
      if (errors.length) {
        problems.push(`Source errors: ${errors.join('; ')}`);
      }
      return problems.length ? { status: 'warning', message: `${message} ${problems.join(' ')}` } : { status: 'success', message };
    } catch (err) {
      return { status: 'error', message: err instanceof Error ? err.message : String(err) };
    }
  }
}
