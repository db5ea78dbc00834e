import type { DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import type { DataSourceRef } from '@grafana/schema';
import type { DataSourceSrv, GetDataSourceListFilters } from '@grafana/runtime';

export type ListedDatasource = Pick<DataSourceInstanceSettings, 'uid' | 'type' | 'name'> & { isDefault?: boolean };

/**
 * Grafana's DataSourceSrv reduced to the lookups the plugin makes: getList filtered by type, and
 * getInstanceSettings by uid or name, a `$var`/`${var}` from the scoped variables, or the default for none.
 */
export function fakeDataSourceSrv(list: ListedDatasource[]): DataSourceSrv {
  const all = list.map((d) => ({ ...d, meta: {}, jsonData: {}, access: 'proxy', readOnly: false }) as unknown as DataSourceInstanceSettings);
  const find = (ref?: DataSourceRef | string | null, scopedVars?: ScopedVars) => {
    const raw = typeof ref === 'string' ? ref : ref?.uid;
    if (!raw || raw === 'default') {
      return all.find((d) => d.isDefault);
    }
    const variable = /^\$\{?(\w+)\}?$/.exec(raw);
    const key = variable ? String(scopedVars?.[variable[1]]?.value ?? '') : raw;
    return all.find((d) => d.uid === key || d.name === key);
  };
  return {
    get: () => Promise.reject(new Error('not used by the plugin')),
    getList: (filters?: GetDataSourceListFilters) => {
      const types = filters?.type === undefined ? undefined : [filters.type].flat();
      return all.filter((d) => !types || types.includes(d.type));
    },
    getInstanceSettings: find,
    reload: () => {},
    registerRuntimeDataSource: () => {},
  };
}
