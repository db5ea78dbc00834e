import { groupingAccuracy } from './grouping-accuracy';
import { mineLines } from './mine-lines';
import { joinTokens, splitTemplate } from './tokens';

describe('miner tokens', () => {
  it('splits at spaces, keeps bracket groups whole and makes a field delimiter a token of its own', () => {
    expect(splitTemplate('a [b c] d')).toEqual(['a', '[b c]', 'd']);
    expect(splitTemplate('<TS>|Step_LSC|<NUM>|onStandStepChanged <NUM>')).toEqual(['<TS>', '|', 'Step_LSC', '|', '<NUM>', '|', 'onStandStepChanged', '<NUM>']);
    expect(splitTemplate('[x|y] z')).toEqual(['[x|y]', 'z']);
    expect(splitTemplate('')).toEqual([]);
  });

  it('joins back to the same text, so a stored template splits into the tokens the miner compares', () => {
    for (const text of ['a [b c] d', '<TS>|Step_LSC|<NUM>|onStandStepChanged <NUM>', 'x||y z', '|lead and trail|']) {
      expect(joinTokens(splitTemplate(text))).toBe(text);
      expect(splitTemplate(joinTokens(splitTemplate(text)))).toEqual(splitTemplate(text));
    }
  });

  // A generated pipe-delimited log (time|component|pid|message): events are the message shapes, whichever
  // component writes them. Glued into one token per line head, every (component, first word) pair was its own
  // template and a varying component could never become a wildcard.
  it('groups the events of a pipe-delimited log by message, not by the glued line head', () => {
    const components = ['Step_LSC', 'Step_SPUtils', 'Step_StandReportReceiver', 'Step_ExtSDM', 'Step_FlushableStepDataCache', 'Step_NotificationUtil'];
    // Messages of a few words: with one word only, the component weighs as much as the message (see
    // similarity.ts) and the line stays apart; that is the similarity rule, not this one.
    const events: ((n: number) => string)[] = [
      (n) => `step changed to ${n} from sensor`,
      (n) => `set today total detail steps ${n} ${n % 97} ${n % 13}`,
      (n) => `flush sensor data, total steps ${n} in ${n % 60} ms`,
      (n) => `REPORT : ${n} ${n % 7} ${n % 1000} ${n % 3}`,
    ];
    const lines: string[] = [];
    const truth: string[] = [];
    for (let i = 0; i < 400; i++) {
      const e = Math.floor(i / components.length) % events.length;
      const component = components[i % components.length];
      lines.push(`20171223-22:${String(10 + (i % 50)).padStart(2, '0')}:29:${100 + i}|${component}|${30002312 + (i % 3)}|${events[e](1000 + i * 37)}`);
      truth.push(`E${e}`);
    }
    const { templates } = mineLines(lines);
    expect(groupingAccuracy(templates, truth)).toBeGreaterThanOrEqual(0.99);
  });
});
