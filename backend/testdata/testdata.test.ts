import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { generateModern } from './generate-modern';
import { GENERATED_DIR, LOGHUB_DIR } from './paths';

describe('in-repository test data', () => {
  it('the committed generated logs are exactly what generate-modern.ts writes (regenerate both together)', () => {
    const files = generateModern();
    expect(readdirSync(GENERATED_DIR).sort()).toEqual(Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) {
      expect({ name, same: readFileSync(join(GENERATED_DIR, name)).equals(Buffer.from(text)) }).toEqual({
        name,
        same: true,
      });
    }
  });

  it('another seed gives other bytes, so the comparison above can fail', () => {
    expect(generateModern(1)['drone-json.log']).not.toBe(generateModern()['drone-json.log']);
  });

  it("each of the ten Loghub samples has its ground truth, one event id per line, and Loghub's licence beside it", () => {
    const logs = readdirSync(LOGHUB_DIR).filter((f) => f.endsWith('_2k.log'));
    expect(logs).toHaveLength(10);
    for (const log of logs) {
      const lines = readFileSync(join(LOGHUB_DIR, log), 'utf8')
        .split(/\r?\n/)
        .filter((l) => l.length > 0);
      const events = readFileSync(join(LOGHUB_DIR, log.replace(/\.log$/, '.events.txt')), 'utf8')
        .trimEnd()
        .split('\n');
      expect({ log, lines: lines.length, events: events.length }).toEqual({ log, lines: 2000, events: 2000 });
      expect(events.every((e) => /^E\d+$/.test(e))).toBe(true);
    }
    expect(existsSync(join(LOGHUB_DIR, 'LICENSE'))).toBe(true);
    expect(readFileSync(join(LOGHUB_DIR, 'LICENSE'), 'utf8')).toMatch(/research or academic work/);
  });
});
