import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileTailSource } from '../file-tail';
import { createSource, parseSourceConfig, SOURCE_TYPE_NAMES, SourceConfigError } from '../registry';
import { RecordingSink } from './recording-sink';
import { removeDir, tempDir } from '../../testing/temp-dir';

describe('parseSourceConfig names the bad key', () => {
  it.each([
    [{ type: 'nope', name: 'a' }, 'type', /unknown source type; known types: .*file/],
    [{ name: 'a' }, 'type', /unknown source type/],
    [{ type: 'file', name: 'a' }, 'path', /expected string/],
    [{ type: 'file', name: 'a', path: 1 }, 'path', /expected string/],
    [{ type: 'file', name: 'a', path: '/x', pth: 1 }, 'pth', /unknown option/],
    [{ type: 'file', name: 'a/b', path: '/x' }, 'name', /"\/"/],
    [{ type: 'file', name: 'a', path: '/x', startAt: 'middle' }, 'startAt', /end|beginning/],
    [{ type: 'file', name: 'a', path: '/x', labels: { a: 1 } }, 'labels.a', /expected string/],
    [{ type: 'file', name: 'a', path: '/x', firstLinePattern: '^(unclosed' }, 'firstLinePattern', /regular expression/],
    [5, '', /expected object/],
    // a pull source's base URL is HTTP(S): fetch refused these only when polling, retried forever
    [{ type: 'loki-pull', name: 'l', url: 'file:///etc/passwd', query: '{a="b"}' }, 'url', /http:\/\/ or https:\/\//],
    [{ type: 'elasticsearch-pull', name: 'e', url: 'ftp://es.example', index: 'logs' }, 'url', /http:\/\/ or https:\/\//],
  ])('%j', (raw, field, message) => {
    let error: unknown;
    try {
      parseSourceConfig(raw);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SourceConfigError);
    expect((error as SourceConfigError).field).toBe(field);
    expect((error as SourceConfigError).message).toMatch(message);
  });

  it('fills in defaults', () => {
    expect(parseSourceConfig({ type: 'file', name: 'app', path: '/var/log/app.log' })).toMatchObject({
      type: 'file',
      name: 'app',
      path: '/var/log/app.log',
      startAt: 'end',
      multiline: true,
    });
  });

  it('knows every registered type', () => {
    expect(SOURCE_TYPE_NAMES).toEqual(expect.arrayContaining(['demo', 'file', 'syslog']));
  });
});

it('creates a working file source from a config entry', async () => {
  const dir = tempDir('lad-registry-');
  const path = join(dir, 'x.log');
  writeFileSync(path, 'from the registry\n');
  const source = createSource({ type: 'file', name: 'reg', path, startAt: 'beginning', pollIntervalMs: 20 });
  expect(source).toBeInstanceOf(FileTailSource);
  expect(source.name).toBe('reg');
  expect(source.kind).toBe('file');
  const sink = new RecordingSink();
  try {
    await source.start(sink);
    await sink.waitForEntries(1);
    expect(sink.entries[0]).toMatchObject({ source: 'reg', line: 'from the registry' });
  } finally {
    await source.stop();
    removeDir(dir);
  }
});

it('creates the demo source with its options (type removed) and rejects unknown demo options', () => {
  const source = createSource({ type: 'demo', name: 'shop', linesPerSecond: 5 });
  expect(source.kind).toBe('demo');
  expect(source.name).toBe('shop');
  expect(() => parseSourceConfig({ type: 'demo', linesPerSecnd: 5 })).toThrow(/linesPerSecnd: unknown option/);
});

it('creates a syslog source', () => {
  const source = createSource({ type: 'syslog', name: 'sys', tcpPort: 0, udpPort: null });
  expect(source.kind).toBe('syslog');
  expect(source.name).toBe('sys');
});
