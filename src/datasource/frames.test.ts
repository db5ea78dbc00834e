import {
  applyFieldOverrides,
  createTheme,
  FieldConfigOptionsRegistry,
  getFieldDisplayName,
  type FieldConfigPropertyItem,
} from '@grafana/data';

import { framesFromJSON } from './frames';
import { anomaliesFrameJSON, rateFrameJSON } from '../testing/fixtures';

/** The standard options this test sets, as Grafana's registry declares them (plain values, every field). */
const registry = new FieldConfigOptionsRegistry(() =>
  ['unit', 'decimals', 'displayName', 'min'].map(
    (id) =>
      ({
        id,
        path: id,
        name: id,
        process: (value: unknown) => value,
        shouldApply: () => true,
        override: () => null,
        editor: () => null,
      }) as unknown as FieldConfigPropertyItem
  )
);

function render(frames: ReturnType<typeof framesFromJSON>, defaults: Record<string, unknown>) {
  return applyFieldOverrides({
    data: frames,
    fieldConfig: { defaults, overrides: [] },
    fieldConfigRegistry: registry,
    replaceVariables: (s) => s,
    theme: createTheme(),
  });
}

describe('frames leave unit, decimals and display name to the panel', () => {
  it("the panel's standard options win over everything the datasource sets (Grafana's own applyFieldOverrides)", () => {
    const frames = framesFromJSON([rateFrameJSON('A', 'web')], 'A', 'rate');
    const [out] = render(frames, { unit: 'short', decimals: 1, displayName: 'Mine', min: 5 });
    const ratio = out.fields.find((f) => f.name === 'ratio')!;
    expect(ratio.config).toMatchObject({ unit: 'short', decimals: 1, displayName: 'Mine', min: 5 });
    expect(getFieldDisplayName(ratio, out, [out])).toBe('Mine');
  });

  it('without panel options the datasource still names the fields readably', () => {
    const [rate] = render(framesFromJSON([rateFrameJSON('A', 'web')], 'A', 'rate'), {});
    expect(rate.fields.map((f) => getFieldDisplayName(f, rate, [rate]))).toEqual(['Time', 'web anomalies', 'web lines', 'web anomaly ratio']);
    expect(rate.fields.find((f) => f.name === 'ratio')!.config.unit).toBeUndefined();
    const [anomalies] = render(framesFromJSON([anomaliesFrameJSON('A', 1)], 'A', 'anomalies'), {});
    const score = anomalies.fields.find((f) => f.name === 'score')!;
    expect(score.config.decimals).toBeUndefined();
    expect(getFieldDisplayName(score, anomalies, [anomalies])).toBe('Score');
  });
});
