import type { DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import type { DataSourceRef } from '@grafana/schema';
import { getDataSourceSrv } from '@grafana/runtime';

import { DATASOURCE_TYPE } from './constants';

/**
 * The Scorpio datasources of this Grafana organisation, the default one first: found by plugin type, never by a
 * guessed uid (an installation may name and number them as it likes).
 */
export function scorpioDatasources(): DataSourceInstanceSettings[] {
  const list = getDataSourceSrv().getList({ type: DATASOURCE_TYPE });
  return [...list].sort((a, b) => Number(Boolean(b.isDefault)) - Number(Boolean(a.isDefault)));
}

/**
 * The uid of the Scorpio datasource a query's ref points at, with a datasource variable (`${ds}`) and the
 * default datasource resolved as Grafana resolves them; undefined for any other kind of datasource.
 */
export function scorpioUidOf(ref: DataSourceRef | string | null | undefined, scopedVars?: ScopedVars): string | undefined {
  const settings = getDataSourceSrv().getInstanceSettings(ref, scopedVars);
  return settings?.type === DATASOURCE_TYPE ? settings.uid : undefined;
}
