import { CustomVariableSupport, type DataQueryRequest, type DataQueryResponse, type MetricFindValue } from '@grafana/data';
import { from, type Observable } from 'rxjs';

import type { LadDataSource } from './datasource';
import { toVariableQuery, type LadVariableQuery } from './variableQuery';
import { VariableQueryEditor } from './VariableQueryEditor';

/**
 * Template variables through Grafana's variable API (CustomVariableSupport), instead of the deprecated string
 * metricFindQuery: the query is a typed object with its own editor, and the answer a list of MetricFindValue.
 */
export class LadVariableSupport extends CustomVariableSupport<LadDataSource, LadVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: LadDataSource) {
    super();
  }

  query(request: DataQueryRequest<LadVariableQuery>): Observable<DataQueryResponse> {
    return from(this.values(request.targets[0]).then((data) => ({ data })));
  }

  async values(stored: unknown): Promise<MetricFindValue[]> {
    toVariableQuery(stored);
    const sources = await this.datasource.client.sources();
    return sources.map((text) => ({ text, value: text }));
  }
}
