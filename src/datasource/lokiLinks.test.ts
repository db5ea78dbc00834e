import { framesFromJSON } from './frames';
import { LOKI_PANES_FIELD, lokiLinkSettings } from './lokiLinks';
import { anomaliesFrameJSON } from '../testing/fixtures';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** The href Grafana makes of a URL data link for one row: `${__data.fields.x}` filled in, then encodeURI (UriEncode). */
function hrefOf(url: string, row: Record<string, unknown>): string {
  return url.replace(/\$\{__data\.fields\.(\w+)\}/g, (_all, name: string) => encodeURI(String(row[name])));
}

describe('"Open in Explore" links to Loki', () => {
  it('without a Loki datasource in the settings the frames carry no link', () => {
    const [frame] = framesFromJSON([anomaliesFrameJSON('A', 1)], 'A', 'anomalies', lokiLinkSettings({ url: 'http://x' }));
    expect(frame.fields.some((f) => f.config.links?.length)).toBe(false);
    expect(frame.fields.map((f) => f.name)).not.toContain(LOKI_PANES_FIELD);
  });

  it('every anomaly links to its source\'s lines in Loki, 5 minutes either side of it', () => {
    const settings = lokiLinkSettings({ lokiDatasourceUid: 'loki-prod', lokiSourceLabel: 'service' });
    const json = anomaliesFrameJSON('A', 2);
    json.data!.values[2][1] = 'a&b #1+2';
    const [frame] = framesFromJSON([json], 'A', 'anomalies', settings);
    const body = frame.fields.find((f) => f.name === 'body')!;
    expect(body.config.links).toHaveLength(1);
    const [link] = body.config.links!;
    expect(link.title).toMatch(/^Open in Explore/);
    const panesField = frame.fields.find((f) => f.name === LOKI_PANES_FIELD)!;
    expect(panesField.config.custom).toEqual({ hidden: true });
    for (const i of [0, 1]) {
      const row = Object.fromEntries(frame.fields.map((f) => [f.name, f.values[i]]));
      const href = new URL(hrefOf(link.url, row), 'http://grafana');
      expect(href.pathname).toBe('/explore');
      const panes = JSON.parse(href.searchParams.get('panes')!);
      expect(panes.a.datasource).toBe('loki-prod');
      expect(panes.a.queries[0]).toEqual({ refId: 'A', datasource: { type: 'loki', uid: 'loki-prod' }, expr: `{service=${JSON.stringify(row.source)}}` });
      expect(panes.a.range).toEqual({ from: String(T0 + i * 1000 - 300_000), to: String(T0 + i * 1000 + 300_000) });
    }
  });
});
