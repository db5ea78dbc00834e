// configFromOptions: a --config file must be a mapping of engine settings; an empty one sets nothing.
// addModelOptions: the two threshold rules are one or the other.

import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { Command } from 'commander';
import * as path from 'path';
import { resolveConfig } from '../engine';
import { addModelOptions, configFromOptions } from './options';

describe('lad --config', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'lad-options-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  }

  it('refuses a file that is a number, string or list, naming it (spread, each read as no settings)', () => {
    expect(() => configFromOptions({ config: file('n.yaml', '5\n') })).toThrow(/config .*n\.yaml must be a mapping of engine settings .*not a number/);
    expect(() => configFromOptions({ config: file('s.json', '"abc"') })).toThrow(/s\.json must be a mapping .*not a string/);
    expect(() => configFromOptions({ config: file('l.yaml', '[1, 2]\n') })).toThrow(/l\.yaml must be a mapping .*not a list/);
  });

  it('refuses a neural that is not a mapping, with or without neural options', () => {
    const f = file('neural.yaml', 'neural: 5\n');
    expect(() => configFromOptions({ config: f })).toThrow(/invalid engine config neural in .*neural\.yaml: expected a mapping, not 5/);
    expect(() => configFromOptions({ config: f, neural: false })).toThrow(/neural/);
  });

  it('an empty file (YAML or JSON null) sets nothing', () => {
    expect(configFromOptions({ config: file('empty.yaml', '') })).toEqual(resolveConfig({}));
    expect(configFromOptions({ config: file('null.json', 'null') })).toEqual(resolveConfig({}));
    expect(configFromOptions({ config: file('seed.yaml', 'neural: {seed: 9}\n'), dim: 8 }).neural).toMatchObject({ seed: 9, dim: 8 });
  });
});

describe('lad --threshold-k and --threshold-percentile', () => {
  function parse(args: string[]): ReturnType<Command['opts']> {
    const cmd = addModelOptions(new Command('train').exitOverride().configureOutput({ writeErr: () => undefined }));
    return cmd.parse(args, { from: 'user' }).opts();
  }

  it('are one or the other: both given is refused (the percentile silently won, --threshold-k was ignored)', () => {
    expect(() => parse(['--threshold-k', '3', '--threshold-percentile', '90'])).toThrow(/cannot be used with/);
    expect(() => parse(['--threshold-percentile', '90', '--threshold-k', '3'])).toThrow(/cannot be used with/);
  });

  it('each alone still sets its rule', () => {
    expect(configFromOptions(parse(['--threshold-k', '3']))).toMatchObject({ thresholdMethod: 'sigma', thresholdK: 3 });
    expect(configFromOptions(parse(['--threshold-percentile', '90']))).toMatchObject({ thresholdMethod: 'percentile', thresholdPercentile: 90 });
  });
});
