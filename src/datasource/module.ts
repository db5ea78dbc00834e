import { DataSourcePlugin } from '@grafana/data';

import { LadDataSource } from './datasource';
import { ConfigEditor } from './ConfigEditor';
import { QueryEditor } from './QueryEditor';
import type { LadDataSourceOptions, LadQuery, LadSecureJsonData } from './types';

export const plugin = new DataSourcePlugin<LadDataSource, LadQuery, LadDataSourceOptions, LadSecureJsonData>(LadDataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
