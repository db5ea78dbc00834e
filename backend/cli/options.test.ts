// configFromOptions: a --config file must be a mapping of engine settings; an empty one sets nothing.

import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { resolveConfig } from '../engine';
import { configFromOptions } from './options';

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
