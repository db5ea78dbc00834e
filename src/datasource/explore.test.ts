import { LadDataSource } from './datasource';
import { ladSettings } from '../testing/settings';
import { FakeTemplateSrv } from '../testing/templateSrv';

const settings = ladSettings;

describe('Explore from a dashboard panel', () => {
  it('interpolates $source and the search text before Grafana opens Explore, where the variables do not exist', () => {
    const ds = new LadDataSource(settings, new FakeTemplateSrv({ source: ['web', 'auth'], needle: 'quota' }));
    const [query] = ds.interpolateVariablesInQueries(
      [{ refId: 'A', queryType: 'anomalies', source: '$source', search: 'user ${needle}', minScore: 0.7 }],
      {}
    );
    expect(query).toEqual({
      refId: 'A',
      queryType: 'anomalies',
      source: 'web,auth',
      search: 'user quota',
      minScore: 0.7,
      datasource: { type: 'scorpio-lad-datasource', uid: 'scorpio-lad' },
    });
    // Explore's request then sends the comma list as a dashboard's multi-value variable would be sent.
    const explore = new LadDataSource(settings, new FakeTemplateSrv({}));
    expect(explore.toTarget(query, {}).source).toEqual(['web', 'auth']);
  });

  it('prefers the panel-scoped value (a repeated panel) and leaves queries without variables alone', () => {
    const ds = new LadDataSource(settings, new FakeTemplateSrv({ source: ['web', 'auth'] }));
    const queries = ds.interpolateVariablesInQueries(
      [
        { refId: 'A', source: '$source' },
        { refId: 'B', queryType: 'rate' },
      ],
      { source: { text: 'auth', value: 'auth' } }
    );
    expect(queries.map((q) => q.source)).toEqual(['auth', undefined]);
    expect(queries[1]).toEqual({ refId: 'B', queryType: 'rate', datasource: { type: 'scorpio-lad-datasource', uid: 'scorpio-lad' } });
  });
});
