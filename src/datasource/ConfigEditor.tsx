import React, { type ChangeEvent } from 'react';
import type { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Field, FieldSet, Input, SecretInput } from '@grafana/ui';

import { urlProblem } from './backendUrl';
import { DEFAULT_LOKI_SOURCE_LABEL } from './lokiLinks';
import type { LadDataSourceOptions, LadSecureJsonData } from './types';

type Props = DataSourcePluginOptionsEditorProps<LadDataSourceOptions, LadSecureJsonData>;

export { urlProblem };

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields } = options;
  const secureJsonData = options.secureJsonData ?? {};
  const problem = urlProblem(jsonData.url);

  const onUrlChange = (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, jsonData: { ...jsonData, url: event.target.value.trim() } });
  };
  const onTokenChange = (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, token: event.target.value } });
  };
  const onResetToken = () => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, token: false },
      secureJsonData: { ...secureJsonData, token: '' },
    });
  };

  return (
    <>
      <FieldSet label="Scorpio backend">
        <Field
          label="Backend URL"
          description="Where the Grafana server (not your browser) reaches the Scorpio service. Requests go through Grafana's data proxy."
          invalid={Boolean(jsonData.url) && Boolean(problem)}
          error={problem}
          required
        >
          <Input
            id="lad-config-url"
            aria-label="Backend URL"
            value={jsonData.url ?? ''}
            placeholder="http://lad-backend:8080"
            onChange={onUrlChange}
            width={50}
          />
        </Field>
        <Field
          label="API token"
          description="The backend's LAD_API_TOKEN. Needed for every call (queries and feedback) when the backend sets one. Stored encrypted; sent as a Bearer token by the data proxy."
        >
          <SecretInput
            id="lad-config-token"
            aria-label="API token"
            isConfigured={Boolean(secureJsonFields?.token)}
            value={secureJsonData.token ?? ''}
            placeholder="optional"
            onChange={onTokenChange}
            onReset={onResetToken}
            width={50}
          />
        </Field>
      </FieldSet>
      <LokiLinksSettings options={options} onOptionsChange={onOptionsChange} />
    </>
  );
}

/** Optional: where the raw logs are, so every anomaly links to its surrounding lines in Loki. */
function LokiLinksSettings({ options, onOptionsChange }: Props) {
  const { jsonData } = options;
  const set = (key: 'lokiDatasourceUid' | 'lokiSourceLabel') => (event: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, [key]: event.target.value.trim() } });
  return (
    <FieldSet label="Links to Loki (optional)">
      <Field
        label="Loki datasource uid"
        description="Every anomaly gets an “Open in Explore” link to its source's lines in this Loki datasource, 5 minutes either side."
      >
        <Input
          id="lad-config-loki-uid"
          aria-label="Loki datasource uid"
          value={jsonData.lokiDatasourceUid ?? ''}
          placeholder="e.g. loki"
          onChange={set('lokiDatasourceUid')}
          width={50}
        />
      </Field>
      <Field
        label="Source label"
        description={`The Loki label whose value is the Scorpio source name (default ${DEFAULT_LOKI_SOURCE_LABEL}).`}
      >
        <Input
          id="lad-config-loki-label"
          aria-label="Loki source label"
          value={jsonData.lokiSourceLabel ?? ''}
          placeholder={DEFAULT_LOKI_SOURCE_LABEL}
          onChange={set('lokiSourceLabel')}
          width={50}
        />
      </Field>
    </FieldSet>
  );
}
