import type { DataSourceInstanceSettings } from '@grafana/data';

import type { LadDataSourceOptions } from '../datasource/types';

/** The provisioned Scorpio datasource as Grafana hands it to the plugin (url = its data proxy base). */
export const ladSettings = {
  uid: 'scorpio-lad',
  type: 'scorpio-lad-datasource',
  name: 'Scorpio',
  url: '/api/datasources/proxy/uid/scorpio-lad',
  access: 'proxy',
  jsonData: { url: 'http://lad-backend:8080' },
  meta: {} as DataSourceInstanceSettings['meta'],
  readOnly: false,
} as DataSourceInstanceSettings<LadDataSourceOptions>;
