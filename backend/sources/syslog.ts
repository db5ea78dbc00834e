/**
 * Syslog source: listens on TCP (RFC 6587 octet-counted and LF framing, detected per frame), TLS (RFC 5425,
 * optional) and UDP (one message per datagram), parses RFC 5424 and RFC 3164, and hands batches to the sink with host, app,
 * severity and facility as labels.
 *
 * Backpressure: TCP can push back, so a connection whose batch the sink refuses is paused (the kernel
 * window then slows the sender) and resumed when the sink drains (deliver.ts); nothing read from it is dropped.
 * UDP cannot push back: a datagram that arrives while the sink is saturated is dropped and counted.
 *
 * Durability: with the spool on, the service hands a DurableSink. A TCP connection then stops reading while
 * its batch is being spooled, so every line read from a connection is on disk before more is read, and a stop
 * waits for batches in flight. Syslog has no application-level acknowledgement (RFC 6587), so a sender cannot
 * know which lines arrived; what a kill -9 can lose is what sat in the kernel's socket buffer and the one batch
 * per connection being spooled. UDP lines are spooled too, but a datagram is never acknowledged at all.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { z } from 'zod';
import { deliver, isDurableSink, pushOnce } from './deliver';
import { isBackpressureError, type LogEntry, type LogSink, type LogSource, type SourceStatus } from './source';
import { SyslogFramer } from './syslog-framing';
import { parseSyslog } from './syslog-parse';
import { RateMeter } from './rate-meter';

const port = z.number().int().min(0).max(65535);

export const SyslogSourceConfigSchema = z
  .object({
    type: z.literal('syslog'),
    name: z.string().min(1),
    /** Listen address; 0.0.0.0 to accept from other hosts. */
    listenHost: z.string().min(1).default('127.0.0.1'),
    /** TCP port (0 = any free port); null disables TCP. */
    tcpPort: port.nullable().default(5514),
    /** UDP port (0 = any free port); null disables UDP. */
    udpPort: port.nullable().default(5514),
    /**
     * Syslog over TLS (RFC 5425, usually port 6514): octet-counted frames in a TLS stream. PEM files are read
     * at start; with caFile and requireClientCert, senders must present a certificate signed by that CA.
     */
    tls: z
      .object({
        port: port,
        certFile: z.string().min(1),
        keyFile: z.string().min(1),
        caFile: z.string().min(1).optional(),
        requireClientCert: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** Longest syslog message; longer frames are skipped and counted as dropped (reason "oversize"). */
    maxMessageBytes: z.number().int().min(480).max(16 * 1024 * 1024).default(64 * 1024),
    maxConnections: z.number().int().min(1).default(1024),
    /**
     * UDP receive buffer asked of the kernel (SO_RCVBUF; Linux caps it at net.core.rmem_max). Datagrams that
     * overflow it are dropped by the kernel before Scorpio sees them: use TCP when every line matters.
     */
    udpReceiveBufferBytes: z.number().int().min(64 * 1024).default(8 * 1024 * 1024),
    /** Most lines handed to the sink in one push. */
    batchLines: z.number().int().min(1).max(100_000).default(1000),
    /** Stamp lines with the receive time instead of the sender's timestamp. */
    useReceiveTime: z.boolean().default(false),
    /** Labels added to every line (sender labels win on a clash). */
    labels: z.record(z.string(), z.string()).default({}),
  })
  .strict();
export type SyslogSourceConfig = z.input<typeof SyslogSourceConfigSchema>;

/**
 * oversize: frame longer than maxMessageBytes; udp_backpressure: datagram arrived while the sink was full;
 * shutdown: read but not accepted when the source stopped or the peer vanished; sink_error: the sink
 * failed with something other than backpressure (the batch cannot be kept without bound).
 */
const BLANK = /^\s*$/;

export type SyslogDropReason = 'oversize' | 'udp_backpressure' | 'shutdown' | 'sink_error';

interface Connection {
  socket: Socket;
  framer: SyslogFramer;
  batch: LogEntry[];
  /** Reading is paused: a batch is being delivered (spooled, or waiting for the sink to drain). */
  paused: boolean;
  /** The delivery of this connection's batches, while one runs. */
  delivering: Promise<void> | null;
  /** Lines handed to the sink and not yet accepted (counted as shutdown drops if the source stops first). */
  inFlight: number;
  /** The listener (TCP or TLS) it came through: maxConnections counts per listener. */
  via: Server;
  /** When it last sent a byte (or opened). */
  lastByteAt: number;
}

/**
 * A new connection that finds its listener at maxConnections closes the connection quiet longest (no byte received,
 * no delivery running) if that one has been quiet at least this long; otherwise the new one is closed. Below the
 * limit nothing is closed for being quiet: syslog senders may hold a connection open for hours between messages.
 * Before, 1,024 connections that never sent a byte held every slot for as long as their peer liked, and each real
 * sender was closed at once (its lines lost).
 */
export const QUIET_EVICT_MS = 10_000;

export class SyslogSource implements LogSource {
  readonly kind = 'syslog';
  readonly name: string;
  private readonly config: z.output<typeof SyslogSourceConfigSchema>;
  private sink: LogSink | null = null;
  private tcp: Server | null = null;
  private tls: TlsServer | null = null;
  private udp: UdpSocket | null = null;
  private readonly connections = new Set<Connection>();
  private udpBatch: LogEntry[] = [];
  private udpFlushScheduled = false;
  /** Ends delivery waits when the source stops. */
  private abort = new AbortController();
  /** UDP batches being spooled (a stop waits for them). */
  private readonly udpInFlight = new Set<Promise<void>>();
  private state: SourceStatus['state'] = 'stopped';
  private lastError: string | null = null;
  private linesTotal = 0;
  private lastLagMs: number | null = null;
  private readonly rate = new RateMeter();
  private readonly drops: Record<SyslogDropReason, number> = { oversize: 0, udp_backpressure: 0, shutdown: 0, sink_error: 0 };

  constructor(
    config: SyslogSourceConfig,
    private readonly quietEvictMs = QUIET_EVICT_MS
  ) {
    this.config = SyslogSourceConfigSchema.parse(config);
    this.name = this.config.name;
  }

  async start(sink: LogSink): Promise<void> {
    this.sink = sink;
    this.state = 'starting';
    this.abort = new AbortController();
    try {
      if (this.config.tcpPort !== null) await this.listenTcp(this.config.tcpPort);
      if (this.config.udpPort !== null) await this.listenUdp(this.config.udpPort);
      if (this.config.tls) await this.listenTls(this.config.tls);
      this.state = 'connected';
    } catch (err) {
      this.fail(err);
      await this.stop();
      this.state = 'error';
      throw err;
    }
  }

  async stop(): Promise<void> {
    // Stop reading first, let a batch being spooled finish (it was read: it must not be lost), then give up
    // waiting on a saturated sink: what is still held was not accepted and is counted as a shutdown drop.
    for (const conn of this.connections) conn.socket.pause();
    this.flushUdp();
    await Promise.all([...this.udpInFlight]);
    this.abort.abort();
    await Promise.all([...this.connections].map((c) => c.delivering));
    for (const conn of this.connections) {
      this.drops.shutdown += conn.batch.length;
      conn.batch = [];
      conn.socket.destroy();
    }
    this.connections.clear();
    const tcp = this.tcp;
    this.tcp = null;
    const udp = this.udp;
    this.udp = null;
    const tls = this.tls;
    this.tls = null;
    await Promise.all([
      tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined,
      tls ? new Promise<void>((resolve) => tls.close(() => resolve())) : undefined,
      udp ? new Promise<void>((resolve) => udp.close(() => resolve())) : undefined,
    ]);
    if (this.state !== 'error') this.state = 'stopped';
  }

  status(): SourceStatus {
    const paused = [...this.connections].some((c) => c.paused);
    return {
      state: this.state === 'connected' && paused ? 'paused' : this.state,
      lastError: this.lastError,
      linesTotal: this.linesTotal,
      lagMs: this.lastLagMs,
      linesPerSecond: this.rate.perSecond(),
    };
  }

  /** Lines read but not delivered, by reason (for the service to export; see docs/sources-more.md). */
  droppedLines(): Readonly<Record<SyslogDropReason, number>> {
    return this.drops;
  }

  /** TCP connections currently open (bounded by maxConnections). */
  get openConnections(): number {
    return this.connections.size;
  }

  /** Bound TCP address (its port is the real one when configured as 0), or null. */
  tcpAddress(): AddressInfo | null {
    const a = this.tcp?.address();
    return a && typeof a === 'object' ? a : null;
  }

  tlsAddress(): AddressInfo | null {
    const a = this.tls?.address();
    return a && typeof a === 'object' ? a : null;
  }

  udpAddress(): AddressInfo | null {
    return this.udp ? this.udp.address() : null;
  }

  private listenTcp(tcpPort: number): Promise<void> {
    const server = createServer((socket) => this.accept(socket, server));
    // one over: the newcomer reaches accept(), which makes room for it or closes it (makeRoom)
    server.maxConnections = this.config.maxConnections + 1;
    server.on('error', (err) => this.fail(err));
    this.tcp = server;
    return this.listen(server, tcpPort);
  }

  /** Binds a TCP or TLS listener; a bind failure (port in use) rejects start(), later errors go to fail(). */
  private listen(server: Server, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  private async listenTls(options: NonNullable<z.output<typeof SyslogSourceConfigSchema>['tls']>): Promise<void> {
    const [cert, key, ca] = await Promise.all([
      readFile(options.certFile),
      readFile(options.keyFile),
      options.caFile ? readFile(options.caFile) : Promise.resolve(undefined),
    ]);
    const server: TlsServer = createTlsServer({ cert, key, ca, requestCert: options.requireClientCert, rejectUnauthorized: options.requireClientCert }, (socket) =>
      this.accept(socket, server)
    );
    server.maxConnections = this.config.maxConnections + 1;
    server.on('error', (err) => this.fail(err));
    // A failed handshake (wrong CA, plain TCP on the TLS port) is the sender's problem: note it, keep serving.
    server.on('tlsClientError', (err) => {
      this.lastError = `TLS handshake: ${err.message}`;
    });
    this.tls = server;
    await this.listen(server, options.port);
  }

  private listenUdp(udpPort: number): Promise<void> {
    const family = this.config.listenHost.includes(':') ? 'udp6' : 'udp4';
    const socket = createSocket({ type: family, recvBufferSize: this.config.udpReceiveBufferBytes });
    socket.on('message', (msg, rinfo) => this.receiveDatagram(msg, rinfo.address));
    socket.on('error', (err) => this.fail(err));
    this.udp = socket;
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(udpPort, this.config.listenHost, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  }

  private accept(socket: Socket, via: Server): void {
    if (!this.makeRoom(via)) {
      socket.destroy();
      return;
    }
    const peer = socket.remoteAddress ?? 'unknown';
    const conn: Connection = {
      socket,
      batch: [],
      paused: false,
      delivering: null,
      inFlight: 0,
      via,
      lastByteAt: Date.now(),
      framer: new SyslogFramer(this.config.maxMessageBytes, {
        onMessage: (text) => this.collect(conn.batch, text, peer),
        onOversize: () => {
          this.drops.oversize += 1;
        },
      }),
    };
    this.connections.add(conn);
    // Senders that vanish without a FIN (power loss, NAT timeout) are noticed and their socket freed.
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: Buffer) => {
      conn.lastByteAt = Date.now();
      conn.framer.push(chunk);
      this.flushConnection(conn);
    });
    socket.on('end', () => {
      conn.framer.end();
      this.flushConnection(conn);
    });
    socket.on('error', (err) => {
      this.lastError = `connection from ${peer}: ${err.message}`;
    });
    socket.on('close', () => {
      // A connection with a delivery running stays until it ends (its lines are still delivered).
      if (!conn.delivering) this.connections.delete(conn);
    });
  }

  /** Whether a new connection on `via` may stay: below maxConnections, or once the quiet-longest one is closed. */
  private makeRoom(via: Server): boolean {
    let open = 0;
    let quietest: Connection | null = null;
    for (const conn of this.connections) {
      if (conn.via !== via) continue;
      open += 1;
      if (!conn.delivering && !conn.paused && (!quietest || conn.lastByteAt < quietest.lastByteAt)) quietest = conn;
    }
    if (open < this.config.maxConnections) return true;
    if (quietest && Date.now() - quietest.lastByteAt >= this.quietEvictMs) {
      // nothing of it is held: its batch is delivered as it arrives (no delivery runs), a partial frame is dropped
      this.connections.delete(quietest);
      quietest.socket.destroy();
      this.lastError = `maxConnections (${this.config.maxConnections}) reached: closed a connection quiet for ${Math.round((Date.now() - quietest.lastByteAt) / 1000)} s`;
      return true;
    }
    this.lastError = `maxConnections (${this.config.maxConnections}) reached: a new connection was refused`;
    return false;
  }

  private collect(batch: LogEntry[], text: string, peer: string): void {
    const now = Date.now();
    const msg = parseSyslog(text, now);
    // A message without text (header only, or a zero-length frame) carries nothing to score, as blank pushed lines.
    if (BLANK.test(msg.message)) return;
    const labels: Record<string, string> = { ...this.config.labels };
    // RFC 3164 §4.3: a message without a HOSTNAME is attributed to the peer that sent it.
    labels.host = msg.host ?? peer;
    labels.app = msg.app ?? 'unknown';
    labels.severity = msg.severity;
    labels.facility = msg.facility;
    batch.push({
      source: this.name,
      timestampMs: this.config.useReceiveTime || msg.timestampMs === null ? now : msg.timestampMs,
      // rsyslog's %msg% keeps the space that followed the RFC 3164 "tag:", so relayed lines start with one.
      line: msg.message.charCodeAt(0) === 32 ? msg.message.slice(1) : msg.message,
      labels,
    });
  }

  /** Starts delivering the connection's batch unless a delivery runs already (it takes what arrives meanwhile). */
  private flushConnection(conn: Connection): void {
    if (conn.delivering || conn.batch.length === 0 || !this.sink) return;
    const sink = this.sink;
    conn.delivering = this.deliverConnection(conn, sink).finally(() => {
      conn.delivering = null;
      if (conn.socket.destroyed) this.connections.delete(conn);
    });
  }

  /**
   * Hands the connection's lines to the sink in batches through deliver.ts. Reading pauses while a batch waits
   * (a saturated sink, or a durable sink writing the spool) so the kernel window slows the sender, and resumes
   * once everything read was accepted.
   */
  private async deliverConnection(conn: Connection, sink: LogSink): Promise<void> {
    const signal = this.abort.signal;
    const pause = (): void => {
      if (!conn.paused) {
        conn.paused = true;
        conn.socket.pause();
      }
    };
    if (isDurableSink(sink)) pause();
    while (conn.batch.length > 0) {
      const part = conn.batch.length > this.config.batchLines ? conn.batch.slice(0, this.config.batchLines) : conn.batch;
      conn.batch = part === conn.batch ? [] : conn.batch.slice(part.length);
      conn.inFlight = part.length;
      let accepted: boolean;
      try {
        accepted = await deliver(sink, part, { signal, onRefused: pause });
      } catch (err) {
        this.fail(err);
        this.drops.sink_error += part.length + conn.batch.length;
        conn.batch = [];
        conn.inFlight = 0;
        break;
      }
      conn.inFlight = 0;
      if (!accepted) {
        this.drops.shutdown += part.length;
        return;
      }
      this.accepted(part);
    }
    if (conn.paused && !signal.aborted) {
      conn.paused = false;
      if (!conn.socket.destroyed) conn.socket.resume();
    }
  }

  private receiveDatagram(msg: Buffer, peer: string): void {
    if (msg.length > this.config.maxMessageBytes) {
      this.drops.oversize += 1;
      return;
    }
    // Some senders pack several LF-separated messages into one datagram.
    const text = msg.toString('utf8');
    let start = 0;
    while (start < text.length) {
      let nl = text.indexOf('\n', start);
      if (nl < 0) nl = text.length;
      if (nl > start) this.collect(this.udpBatch, text.slice(start, nl), peer);
      start = nl + 1;
    }
    if (this.udpBatch.length >= this.config.batchLines) this.flushUdp();
    else if (!this.udpFlushScheduled) {
      this.udpFlushScheduled = true;
      setImmediate(() => this.flushUdp());
    }
  }

  /** One attempt per UDP batch (no waiting: UDP cannot slow the sender); a refusal drops and counts it. */
  private flushUdp(): void {
    this.udpFlushScheduled = false;
    if (this.udpBatch.length === 0 || !this.sink) return;
    const batch = this.udpBatch;
    this.udpBatch = [];
    const done = pushOnce(this.sink, batch).then(
      () => this.accepted(batch),
      (err: unknown) => {
        if (isBackpressureError(err)) {
          this.drops.udp_backpressure += batch.length; // UDP has no way to slow the sender down
        } else {
          this.fail(err);
          this.drops.sink_error += batch.length;
        }
      }
    );
    this.udpInFlight.add(done);
    void done.finally(() => this.udpInFlight.delete(done));
  }

  private accepted(batch: LogEntry[]): void {
    this.linesTotal += batch.length;
    this.rate.add(batch.length);
    this.lastLagMs = Math.max(0, Date.now() - batch[batch.length - 1].timestampMs);
  }

  private fail(err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
  }
}
