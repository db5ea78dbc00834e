import { createSocket } from 'node:dgram';
import { Counter, Registry } from 'prom-client';
import { BackpressureError, type LogSink } from './source';
import { SyslogSource } from './syslog';
import { DroppedLinesExporter } from './syslog-drops';

describe('DroppedLinesExporter (real prom-client registry)', () => {
  let source: SyslogSource;
  afterEach(async () => {
    await source?.stop();
  });

  it('adds only new drops per source and reason to lad_dropped_lines_total', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'lad_dropped_lines_total', help: 'dropped', labelNames: ['source', 'reason'] as const, registers: [registry] });
    const fullSink: LogSink = {
      saturated: true,
      push: () => {
        throw new BackpressureError(1);
      },
      onDrain: () => () => undefined,
    };
    source = new SyslogSource({ type: 'syslog', name: 'udp-in', tcpPort: null, udpPort: 0 });
    await source.start(fullSink);
    const exporter = new DroppedLinesExporter();
    const client = createSocket('udp4');
    const send = (n: number): Promise<void[]> =>
      Promise.all(Array.from({ length: n }, (_, i) => new Promise<void>((r) => client.send(`<14>1 - h a - - - x${i}`, source.udpAddress()!.port, '127.0.0.1', () => r()))));
    const dropped = async (want: number): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (source.droppedLines().udp_backpressure < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    };
    await send(3);
    await dropped(3);
    exporter.update(counter, [source]);
    exporter.update(counter, [source]); // nothing new: no double counting
    await send(2);
    await dropped(5);
    exporter.update(counter, [source]);
    client.close();
    const text = await registry.metrics();
    expect(text).toContain('lad_dropped_lines_total{source="udp-in",reason="udp_backpressure"} 5');
    expect(text).not.toContain('reason="oversize"'); // zero counts are not invented
  });
});
