import fs from 'fs';
import path from 'path';

const root = path.resolve(__dirname, '..');

describe('plugin manifest wiring', () => {
  it('src/plugin.json is the root plugin.json itself (the scaffold build reads src/plugin.json)', () => {
    const rootManifest = path.join(root, 'plugin.json');
    const srcManifest = path.join(root, 'src', 'plugin.json');
    expect(fs.realpathSync(srcManifest)).toBe(fs.realpathSync(rootManifest));
    expect(JSON.parse(fs.readFileSync(srcManifest, 'utf8')).type).toBe('app');
  });
});
