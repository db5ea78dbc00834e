/**
 * Writes backend/testdata/generated/: synthetic logs in the formats of modern services, standing in for Loki's
 * pattern-miner samples (AGPL, so never copied here). Written for Scorpio, redistributable under its licence.
 *
 * - distributor-logfmt.log, ingester-logfmt.log: Go kit logfmt as a Loki/Pyroscope distributor and ingester
 *   write it (ts=RFC3339Nano caller=file.go:N level=... key=value msg="...");
 * - kubernetes-klog.log: klog as a Kubernetes descheduler writes it (I0507 12:04:17.597069  1 file.go:N] "msg" k="v");
 * - drone-json.log: one JSON object per line, keys sorted, as a drone autoscaler writes it;
 * - android-logcat.log, windows-cbs.log, node-pino.log (session 7): level spellings other logs use (logcat's
 *   letter, Windows' padded `Info` column and backslash paths, pino's numeric levels), pinned by the golden tests;
 * - postgres.log, cri-zap.log (session 11): PostgreSQL's stock log (`LOG:` is its info level) and a Go service's
 *   zap JSON behind the kubelet's CRI prefix.
 *
 * Each has several message templates with weights, and varying trace ids, org ids, durations, IPs, pod and node
 * names and levels, so a template miner sees realistic variety. Deterministic: the same seed gives the same
 * bytes on every machine (a test compares the committed files with this output, so edit both together).
 *
 *   npx ts-node backend/testdata/generate-modern.ts [outDir]   (or node backend/dist/testdata/generate-modern.js)
 */
import { mkdirSync, writeFileSync } from 'fs';
import { join, resolve } from 'path';
import { SeededRandom } from '../engine/random';
import { GENERATED_DIR } from './paths';

/** Seed of the committed files. */
export const MODERN_SEED = 20261127;

type Gen = () => string;

/** Random draws for one file, from its own stream so that editing one format leaves the others unchanged. */
class Draw {
  private readonly rng: SeededRandom;
  /** The event (one log statement) of the entry `weighted` chose last: its name, else its place in the table. */
  event = '';
  constructor(seed: number) {
    this.rng = new SeededRandom(seed);
  }
  int(lo: number, hi: number): number {
    return lo + this.rng.nextInt(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.rng.nextFloat() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.rng.nextInt(xs.length)];
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.rng.nextInt(16)];
    return s;
  }
  alnum(n: number): string {
    const abc = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    let s = '';
    for (let i = 0; i < n; i++) s += abc[this.rng.nextInt(abc.length)];
    return s;
  }
  ip(): string {
    return `10.${this.int(0, 255)}.${this.int(0, 255)}.${this.int(1, 254)}`;
  }
  /** A Go duration as time.Duration.String() prints it: µs below 1 ms, ms below 1 s, else s. */
  goDuration(maxMs: number): string {
    const ns = this.int(1_000, maxMs * 1_000_000);
    const trim = (x: string) => x.replace(/\.?0+$/, '');
    if (ns < 1_000_000) return `${trim((ns / 1_000).toFixed(3))}µs`;
    if (ns < 1_000_000_000) return `${trim((ns / 1_000_000).toFixed(6))}ms`;
    return `${trim((ns / 1_000_000_000).toFixed(9))}s`;
  }
  /**
   * One generator by weight. An entry may name its event: entries that are one log statement in the program
   * (distributor's http.go:194 `POST <path> (<status>) <duration>` for every path and status) share a name.
   */
  weighted(table: ReadonlyArray<readonly [number, Gen] | readonly [number, Gen, string]>): string {
    const total = table.reduce((s, [w]) => s + w, 0);
    let r = this.rng.nextFloat() * total;
    for (let i = 0; i < table.length; i++) {
      r -= table[i][0];
      if (r < 0) return this.write(table, i);
    }
    return this.write(table, table.length - 1);
  }
  private write(table: ReadonlyArray<readonly [number, Gen] | readonly [number, Gen, string]>, i: number): string {
    const entry = table[i];
    this.event = entry.length === 3 ? entry[2] : `E${i + 1}`;
    return entry[1]();
  }
}

/** A clock that moves forward by a random step per line, in nanoseconds since the epoch (as a bigint). */
class Clock {
  private ns: bigint;
  constructor(
    private readonly d: Draw,
    startIso: string,
    private readonly maxStepUs: number
  ) {
    this.ns = BigInt(Date.parse(startIso)) * 1_000_000n;
  }
  tick(): void {
    this.ns += BigInt(this.d.int(1, this.maxStepUs)) * 1_000n + BigInt(this.d.int(0, 999));
  }
  private parts(): { date: Date; nanos: string } {
    const ms = this.ns / 1_000_000n;
    return { date: new Date(Number(ms)), nanos: String(this.ns % 1_000_000_000n).padStart(9, '0') };
  }
  /** RFC3339Nano as Go prints it: trailing zeros of the fraction dropped. */
  rfc3339Nano(): string {
    const { date, nanos } = this.parts();
    const frac = nanos.replace(/0+$/, '');
    return `${date.toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
  }
  /** Whole seconds, as drone's logrus JSON prints them. */
  rfc3339(): string {
    return `${this.parts().date.toISOString().slice(0, 19)}Z`;
  }
  /** klog's header time: MMDD hh:mm:ss.uuuuuu */
  klog(): string {
    const { date, nanos } = this.parts();
    const iso = date.toISOString();
    return `${iso.slice(5, 7)}${iso.slice(8, 10)} ${iso.slice(11, 19)}.${nanos.slice(0, 6)}`;
  }
}

/** A generated log and its ground truth: the event of each line (see Draw.weighted). */
interface Generated {
  log: string;
  events: string;
}

function lines(n: number, clock: Clock, d: Draw, line: () => string): Generated {
  const out: string[] = [];
  const events: string[] = [];
  for (let i = 0; i < n; i++) {
    clock.tick();
    out.push(line());
    events.push(d.event);
  }
  return { log: out.join('\n') + '\n', events: events.join('\n') + '\n' };
}

const q = (s: string) => JSON.stringify(s);

function distributor(seed: number): Generated {
  const d = new Draw(seed);
  const clock = new Clock(d, '2026-05-02T12:17:22Z', 900);
  const orgs = [1218, 3648, 4410, 29, 12372];
  const tenants = ['checkoutservice', 'frontend', 'cartservice', 'adservice', 'flamegraph.com'];
  const head = (caller: string, level: string) => `ts=${clock.rfc3339Nano()} caller=${caller} level=${level}`;
  const http = (path: string, status: number, maxMs: number) =>
    `${head('http.go:194', 'debug')} traceID=${d.hex(16)} orgID=${d.pick(orgs)} msg="POST ${path} (${status}) ${d.goDuration(maxMs)}"`;
  return lines(3000, clock, d, () =>
    d.weighted([
      [80, () => http('/push.v1.PusherService/Push', 200, 6), 'http'],
      [
        4,
        () =>
          http(
            `/ingest?aggregationType=sum&from=${d.int(1714650000, 1714659999)}&name=${d.pick(tenants)}.cpu&sampleRate=100&spyName=gospy&units=samples&until=${d.int(1714660000, 1714669999)}`,
            200,
            40
          ),
        'http',
      ],
      [3, () => http('/push.v1.PusherService/Push', d.pick([400, 429, 499]), 3), 'http'],
      [
        2,
        () =>
          `${head('distributor.go:512', 'warn')} orgID=${d.pick(orgs)} msg="ingestion rate limit exceeded" limit=${d.pick([4, 8, 16])}MB burst=${d.pick([16, 32])}MB dropped_bytes=${d.int(1000, 900000)}`,
      ],
      [
        2,
        () =>
          `${head('distributor.go:731', 'error')} traceID=${d.hex(16)} orgID=${d.pick(orgs)} msg="failed to push to ingester" ingester=${d.ip()}:9095 err="rpc error: code = Unavailable desc = connection refused"`,
      ],
      [
        3,
        () =>
          `${head(`ring.go:${d.pick([312, 318])}`, 'info')} msg="instance state changed" ring=distributor instance=distributor-${d.int(0, 5)}-${d.alnum(5).toLowerCase()} state=${d.pick(['ACTIVE', 'JOINING', 'LEAVING'])}`,
      ],
      [
        3,
        () =>
          `${head('validation.go:98', 'debug')} orgID=${d.pick(orgs)} msg="profile accepted" service_name=${d.pick(tenants)} samples=${d.int(1, 4000)} size=${d.int(200, 90000)}B`,
      ],
      [
        1,
        () =>
          `${head('memberlist_client.go:540', 'info')} msg="joined memberlist cluster" reached_nodes=${d.int(3, 24)} elapsed_time=${d.goDuration(2000)}`,
      ],
    ])
  );
}

function ingester(seed: number): Generated {
  const d = new Draw(seed);
  const clock = new Clock(d, '2026-04-17T09:52:46Z', 3000);
  const org = () => d.pick([12372, 12372, 12372, 881, 5]);
  const head = (caller: string, level: string) => `ts=${clock.rfc3339Nano()} caller=${caller} level=${level}`;
  return lines(1000, clock, d, () =>
    d.weighted([
      [
        70,
        () =>
          `${head('http.go:194', 'debug')} traceID=${d.hex(16)} orgID=${org()} msg="POST /ingester.v1.IngesterService/Push (200) ${d.goDuration(4)}"`,
        'http',
      ],
      [
        6,
        () =>
          `${head('http.go:194', 'debug')} traceID=${d.hex(16)} orgID=${org()} msg="POST /querier.v1.QuerierService/SelectMergeStacktraces (200) ${d.goDuration(900)}"`,
        'http',
      ],
      [
        3,
        () =>
          `${head('head.go:216', 'info')} msg="head block flushed" tenant=${org()} block=01HV${d.alnum(22).toUpperCase()} series=${d.int(100, 90000)} duration=${d.goDuration(3000)}`,
      ],
      [
        3,
        () =>
          `${head(`head.go:${d.pick([240, 244])}`, 'debug')} msg="rotating head" tenant=${org()} age=${d.int(1, 59)}m${d.int(0, 59)}s`,
      ],
      [
        2,
        () =>
          `${head('compactor.go:177', 'info')} msg="compaction done" tenant=${org()} compaction_level=${d.int(1, 3)} blocks=${d.int(2, 8)} duration=${d.goDuration(20000)}`,
      ],
      [
        1,
        () =>
          `${head('limiter.go:85', 'warn')} tenant=${org()} msg="max series per tenant exceeded" limit=${d.pick([150000, 500000])} series=${d.int(150000, 600000)}`,
      ],
      [
        1,
        () =>
          `${head('shipper.go:131', 'error')} tenant=${org()} msg="failed to upload block" err="PUT https://storage.googleapis.com/pyro-${d.alnum(6).toLowerCase()}: context deadline exceeded" attempt=${d.int(1, 5)}`,
      ],
    ])
  );
}

function kubernetes(seed: number): Generated {
  const d = new Draw(seed);
  const clock = new Clock(d, '2026-05-07T12:02:27Z', 20000);
  const namespaces = ['gel-sbdev', 'loki-dev-005', 'mimir-ops', 'hosted-grafana', 'kube-system'];
  const pod = () =>
    `${d.pick(namespaces)}/${d.pick(['gel', 'ingester', 'querier', 'compactor', 'distributor'])}-${d.int(0, 30)}`;
  const node = () => `gke-dev-us-central-0-main-n2s16-3-1dd-${d.hex(8)}-${d.alnum(4).toLowerCase()}`;
  const head = (letter: string, file: string) => `${letter}${clock.klog()}       1 ${file}]`;
  return lines(2000, clock, d, () =>
    d.weighted([
      [30, () => `${head('I', 'node.go:339')} "no Pod antiaffinity rule found" pod="${pod()}"`],
      [
        30,
        () =>
          `${head('I', 'node.go:157')} "Pod does not fit on any other node" pod:="${pod()}" node:="${node()}" error:="[${d.pick(['pod node selector does not match the node label', 'insufficient cpu', 'insufficient memory', 'insufficient cpu, insufficient memory'])}]"`,
      ],
      [
        14,
        () =>
          `${head('I', 'defaultevictor.go:202')} "Pod fails the following checks" pod="${pod()}" checks="[${d.pick(['pod is a DaemonSet pod', 'pod has local storage and descheduler is not configured with evictLocalStoragePods', 'pod has system critical priority'])}]"`,
      ],
      [
        4,
        () =>
          `${head('I', 'nodeutilization.go:207')} "Node is overutilized" node="${node()}" usage={"cpu":"${d.int(1000, 16000)}m","memory":"${d.int(1, 64)}Gi","pods":"${d.int(10, 110)}"} usagePercentage={"cpu":${d.int(60, 99)}.${d.int(0, 99)},"memory":${d.int(40, 99)}.${d.int(0, 99)},"pods":${d.int(10, 99)}.${d.int(0, 99)}}`,
      ],
      [
        3,
        () =>
          `${head('I', 'nodeutilization.go:264')} "Evicting pods from node" node="${node()}" usage={"cpu":"${d.int(1000, 16000)}m","memory":"${d.int(1, 64)}Gi"}`,
      ],
      [
        3,
        () =>
          `${head('I', 'evictions.go:171')} "Evicted pod" pod="${pod()}" reason="${d.pick(['LowNodeUtilization', 'RemoveDuplicates', 'HighNodeUtilization'])}" strategy="${d.pick(['LowNodeUtilization', 'RemoveDuplicates'])}" node="${node()}"`,
      ],
      [
        2,
        () =>
          `${head('I', 'reflector.go:790')} k8s.io/client-go/informers/factory.go:150: Watch close - *v1.${d.pick(['Node', 'Pod', 'Namespace', 'PriorityClass'])} total ${d.int(1, 200)} items received`,
      ],
      [2, () => `${head('I', 'descheduler.go:155')} Building a pod evictor`],
      [
        2,
        () =>
          `${head('I', 'profile.go:349')} "Total number of pods evicted" extension point="Balance" evictedPods=${d.int(0, 12)}`,
      ],
      [
        2,
        () =>
          `${head('W', 'evictions.go:180')} "Error evicting pod" err="${d.pick(["Cannot evict pod as it would violate the pod's disruption budget.", 'pods "' + pod().split('/')[1] + '" not found'])}" pod="${pod()}"`,
      ],
      [
        1,
        () =>
          `${head('E', 'leaderelection.go:332')} error retrieving resource lock kube-system/descheduler: Get "https://${d.ip()}:443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/descheduler": context deadline exceeded`,
      ],
      [
        1,
        () =>
          `${head('W', `reflector.go:${d.pick([535, 539])}`)} k8s.io/client-go/informers/factory.go:150: failed to list *v1.Pod: ${d.pick(['the server was unable to return a response in the time allotted', 'Unauthorized'])}`,
      ],
    ])
  );
}

function drone(seed: number): Generated {
  const d = new Draw(seed);
  const clock = new Clock(d, '2026-04-16T14:48:48Z', 5_000_000);
  const json = (fields: Record<string, string | number>) =>
    '{' +
    Object.keys(fields)
      .sort()
      .map((k) => `${q(k)}:${typeof fields[k] === 'number' ? fields[k] : q(String(fields[k]))}`)
      .join(',') +
    '}';
  const base = (level: string, msg: string) => ({ level, msg, time: clock.rfc3339() });
  let id = d.alnum(16);
  /** A line of the autoscaler's current capacity check (its id), and one about a named build server. */
  const job = (level: string, msg: string, extra: Record<string, string | number> = {}) =>
    json({ ...base(level, msg), id, ...extra });
  const server = (level: string, msg: string, extra: Record<string, string | number>) =>
    job(level, msg, { name: `agent-${d.alnum(8)}`, ...extra });
  return lines(1000, clock, d, () => {
    if (d.chance(0.15)) id = d.alnum(16);
    return d.weighted([
      [
        25,
        () =>
          json({
            ...base('debug', 'request completed'),
            duration: d.int(900_000, 90_000_000),
            method: 'GET',
            referer: '',
            remote: `${d.ip()}:${d.int(30000, 65000)}`,
            request: d.pick(['/metrics', '/healthz', '/metrics']),
            status: 200,
            'user-agent': d.pick(['GrafanaAgent/v0.40.3 (flow; linux; helm)', 'Prometheus/2.51.0', 'kube-probe/1.29']),
          }),
      ],
      [12, () => job('debug', 'calculate unfinished jobs')],
      [12, () => job('debug', 'calculate server capacity')],
      [
        12,
        () =>
          job('debug', 'check capacity', {
            'max-pool': 4,
            'min-pool': 0,
            'pending-builds': d.int(0, 6),
            'running-builds': d.int(0, 8),
            'server-buffer': 0,
            'server-capacity': d.int(0, 8),
            'server-count': d.int(0, 4),
          }),
      ],
      [10, () => job('debug', 'no capacity changes required')],
      [10, () => job('debug', 'check capacity complete')],
      [
        4,
        () =>
          job('info', 'provisioning server', {
            image: d.pick(['ubuntu-22-04-x64', 'drone-runner-1.8']),
            region: d.pick(['nyc1', 'fra1', 'ams3']),
            size: d.pick(['s-2vcpu-4gb', 's-4vcpu-8gb']),
          }),
      ],
      [
        3,
        () =>
          server('info', 'server created', {
            address: d.ip(),
            took: `${d.int(20, 95)}s`,
          }),
      ],
      [
        3,
        () =>
          server('info', 'terminating idle server', {
            idle: `${d.int(10, 120)}m0s`,
          }),
      ],
      [
        2,
        () =>
          server('warn', 'server ping failed', {
            error: `dial tcp ${d.ip()}:2376: i/o timeout`,
          }),
      ],
      [
        1,
        () =>
          job('error', 'cannot create server', {
            error: d.pick([
              '422 You have reached the droplet limit.',
              'context deadline exceeded',
              '503 service unavailable',
            ]),
          }),
      ],
    ]);
  });
}

/** Android logcat, `threadtime` format: MM-DD hh:mm:ss.mmm  PID  TID L Tag: message (level letter V D I W E F). */
function logcat(seed: number): Generated {
  const d = new Draw(seed);
  const clock = new Clock(d, '2026-03-17T16:13:38Z', 400_000);
  const pids = [1702, 2218, 3190, 812];
  const head = (level: string, tag: string) => {
    const t = clock.rfc3339Nano();
    return `${t.slice(5, 7)}-${t.slice(8, 10)} ${t.slice(11, 19)}.${(t.slice(20, 23) + '000').slice(0, 3)}  ${d.pick(pids)}  ${d.int(1800, 9999)} ${level} ${tag}: `;
  };
  return lines(1500, clock, d, () =>
    d.weighted([
      [
        30,
        () =>
          `${head('D', 'WindowManager')}handle window event ${d.int(1, 40)} for Token{${d.hex(7)}} visible=${d.pick(['true', 'false'])}`,
      ],
      [
        20,
        () =>
          `${head('I', 'ActivityManager')}Start proc ${d.int(2000, 30000)}:com.example.${d.pick(['mail', 'maps', 'chat'])}/u0a${d.int(10, 200)} for service`,
      ],
      [
        15,
        () =>
          `${head('D', 'PowerManagerService')}acquire wake lock flags=0x${d.hex(1)} tag=${d.pick(['job', 'sync', 'alarm'])}${d.int(1, 30)} uid=${d.int(1000, 10400)}`,
      ],
      [
        10,
        () =>
          `${head('V', 'InputDispatcher')}dispatch key event action=${d.pick(['DOWN', 'UP'])} keyCode=${d.int(1, 120)} to window`,
      ],
      [
        6,
        () =>
          `${head('W', 'ConnectivityService')}network ${d.int(100, 140)} validation failed, retrying in ${d.int(1, 30)}s`,
      ],
      [4, () => `${head('I', 'chatty')}uid=${d.int(1000, 10400)} identical ${d.int(2, 40)} lines`],
      [
        2,
        () => `${head('E', 'AudioFlinger')}write blocked for ${d.int(80, 400)} msecs, ${d.int(1, 30)} delayed writes`,
      ],
      [1, () => `${head('F', 'libc')}Fatal signal 6 (SIGABRT), code -6 in tid ${d.int(1800, 9999)} (RenderThread)`],
    ])
  );
}

/** Windows servicing (CBS) log: date time, padded level and component columns, backslash paths. */
function windowsCbs(seed: number): Generated {
  const d = new Draw(seed);
  const clock = new Clock(d, '2026-09-28T04:30:30Z', 2_000_000);
  const pad = (s: string, n: number) => s + ' '.repeat(Math.max(1, n - s.length));
  const head = (level: string, component: string) =>
    `${clock.rfc3339().slice(0, 10)} ${clock.rfc3339().slice(11, 19)}, ${pad(level, 22)}${pad(component, 7)}`;
  const dirs = ['servicing', 'winsxs', 'Logs', 'Temp', 'System32', 'SoftwareDistribution'];
  const path = () =>
    `C:\\Windows\\${d.pick(dirs)}\\${d.pick(['Packages', 'Manifests', 'Catalogs', 'Download'])}\\${d.pick(['Package_for_KB', 'Microsoft-Windows-Foundation', 'wcp', 'cbscore'])}${d.int(1, 9)}.${d.pick(['mum', 'cat', 'manifest', 'dll'])}`;
  return lines(1200, clock, d, () =>
    d.weighted([
      [
        30,
        () =>
          `${head('Info', 'CBS')}Read out cached package applicability for package: ${path()}, ApplicableState: ${d.pick([80, 112])}, CurrentState:${d.pick([80, 112])}`,
      ],
      [
        20,
        () =>
          `${head('Info', 'CBS')}Session: ${d.int(30546173, 30546999)}_${d.int(1000000000, 4000000000)} initialized by client WindowsUpdateAgent.`,
      ],
      [
        15,
        () =>
          `${head('Info', 'CSI')}${d.hex(8)}@2016/9/28:${d.int(10, 23)}:${d.int(10, 59)}:${d.int(10, 59)}.${d.int(100, 999)} WcpInitialize (wcp.dll version 0.0.0.6) called (stack @0x${d.hex(11)} @0x${d.hex(11)})`,
      ],
      [10, () => `${head('Info', 'CBS')}Loaded Servicing Stack v6.1.7601.${d.int(23000, 23999)} with Core: ${path()}`],
      [5, () => `${head('Warning', 'CBS')}Unrecognized packageExtended attribute.`],
      [3, () => `${head('Info', 'CBS')}Failed to open file ${path()} [HRESULT = 0x80070002 - ERROR_FILE_NOT_FOUND]`],
      [
        1,
        () =>
          `${head('Error', 'CBS')}Failed to internally open package. [HRESULT = 0x800f0805 - CBS_E_INVALID_PACKAGE]`,
      ],
    ])
  );
}

/** pino's JSON lines (Node.js): numeric levels 10-60, epoch-millisecond time, msg last. */
function pino(seed: number): Generated {
  const d = new Draw(seed);
  const clock = new Clock(d, '2026-05-01T10:00:00Z', 900_000);
  const hosts = ['api-7c9f', 'api-k2m4', 'worker-x81q'];
  const line = (level: number, fields: Record<string, unknown>, msg: string) =>
    JSON.stringify({
      level,
      time: Date.parse(clock.rfc3339Nano()),
      pid: d.pick([17, 18, 23]),
      hostname: d.pick(hosts),
      ...fields,
      msg,
    });
  return lines(1200, clock, d, () =>
    d.weighted([
      [
        40,
        () =>
          line(
            30,
            { reqId: `req-${d.alnum(6)}`, res: { statusCode: 200 }, responseTime: d.int(1, 90) },
            'request completed'
          ),
      ],
      [20, () => line(20, { reqId: `req-${d.alnum(6)}`, query: d.pick(['users', 'orders', 'carts']) }, 'cache hit')],
      [10, () => line(20, { reqId: `req-${d.alnum(6)}`, query: d.pick(['users', 'orders', 'carts']) }, 'cache miss')],
      [5, () => line(30, { job: d.pick(['email', 'report', 'cleanup']), took: d.int(10, 4000) }, 'job finished')],
      [3, () => line(40, { reqId: `req-${d.alnum(6)}`, responseTime: d.int(900, 5000) }, 'slow request')],
      [
        2,
        () =>
          line(
            50,
            { reqId: `req-${d.alnum(6)}`, err: { type: 'Error', message: 'connect ECONNREFUSED 10.0.3.7:5432' } },
            'request errored'
          ),
      ],
      [1, () => line(60, { err: { type: 'Error', message: 'out of memory' } }, 'process exiting')],
    ])
  );
}

/**
 * PostgreSQL's server log with its stock `log_line_prefix = '%m [%p] '` (session 11): millisecond time with the zone
 * name, the backend's pid, then the severity and two spaces (`LOG:  `, `ERROR:  `, `FATAL:  `, `WARNING:  `), as
 * src/backend/utils/error/elog.c writes them. LOG is PostgreSQL's informational level.
 */
function postgres(seed: number): Generated {
  const d = new Draw(seed);
  const clock = new Clock(d, '2026-05-03T08:00:00Z', 4_000_000);
  const tables = ['orders', 'order_items', 'customers', 'payments', 'invoices', 'shipments', 'carts', 'sessions'];
  const users = ['app', 'etl', 'report', 'admin'];
  const dbs = ['shop', 'analytics'];
  const pid = () => d.int(2000, 65000);
  const head = (severity: string) => {
    const t = clock.rfc3339Nano();
    return `${t.slice(0, 10)} ${t.slice(11, 19)}.${(t.slice(20, 23) + '000').slice(0, 3)} UTC [${pid()}] ${severity}:  `;
  };
  const secs = (max: number) => (d.int(1, max * 1000) / 1000).toFixed(3);
  const ip = () => `10.${d.int(0, 3)}.${d.int(0, 255)}.${d.int(1, 254)}`;
  return lines(1500, clock, d, () =>
    d.weighted([
      [
        40,
        () =>
          `${head('LOG')}duration: ${d.int(0, 900)}.${d.int(100, 999)} ms  statement: SELECT * FROM ${d.pick(tables)} WHERE id = ${d.int(1, 99999)}`,
      ],
      [15, () => `${head('LOG')}connection received: host=${ip()} port=${d.int(30000, 65000)}`],
      [
        12,
        () => `${head('LOG')}connection authorized: user=${d.pick(users)} database=${d.pick(dbs)} application_name=${d.pick(['psql', 'pgbouncer', 'rails'])}`,
      ],
      [
        12,
        () =>
          `${head('LOG')}disconnection: session time: 0:0${d.int(0, 9)}:${d.int(10, 59)}.${d.int(100, 999)} user=${d.pick(users)} database=${d.pick(dbs)} host=${ip()} port=${d.int(30000, 65000)}`,
      ],
      [3, () => `${head('LOG')}checkpoint starting: time`],
      [
        3,
        () =>
          `${head('LOG')}checkpoint complete: wrote ${d.int(10, 9000)} buffers (${(d.int(1, 900) / 10).toFixed(1)}%); 0 WAL file(s) added, 0 removed, ${d.int(0, 9)} recycled; write=${secs(270)} s, sync=${secs(2)} s, total=${secs(270)} s; sync files=${d.int(1, 90)}, longest=${secs(1)} s, average=${secs(1)} s; distance=${d.int(100, 99000)} kB, estimate=${d.int(100, 99000)} kB`,
      ],
      [4, () => `${head('LOG')}automatic vacuum of table "${d.pick(dbs)}.public.${d.pick(tables)}": index scans: ${d.int(0, 3)}`],
      [3, () => `${head('ERROR')}duplicate key value violates unique constraint "${d.pick(tables)}_pkey"`],
      [2, () => `${head('ERROR')}canceling statement due to statement timeout`],
      [2, () => `${head('FATAL')}password authentication failed for user "${d.pick(users)}"`],
      [2, () => `${head('WARNING')}there is no transaction in progress`],
      [1, () => `${head('FATAL')}terminating connection due to administrator command`],
    ])
  );
}

/**
 * A Go service's zap JSON (production encoder: level, epoch-seconds ts, caller, msg, fields) as the kubelet stores
 * a container's output (session 11): each line behind CRI's `<RFC 3339 time> <stream> <F|P> ` (zap writes to
 * stderr), as under /var/log/pods when read without a CRI parsing stage.
 */
function criZap(seed: number): Generated {
  const d = new Draw(seed);
  const clock = new Clock(d, '2026-05-04T14:00:00Z', 700_000);
  const line = (level: string, caller: string, msg: string, fields: Record<string, unknown>) => {
    const t = clock.rfc3339Nano();
    const ts = Date.parse(t) / 1000;
    return `${t} stderr F ${JSON.stringify({ level, ts, caller, msg, ...fields })}`;
  };
  const pods = ['api-7c9f5-x2k8q', 'api-7c9f5-m4n7r', 'api-7c9f5-q9w2e'];
  const paths = ['/v1/items', '/v1/cart', '/v1/checkout', '/v1/users', '/healthz', '/v1/search', '/v1/orders'];
  return lines(1500, clock, d, () =>
    d.weighted([
      [
        50,
        () =>
          line('info', 'server/http.go:88', 'handled request', {
            method: d.pick(['GET', 'GET', 'POST', 'PUT', 'DELETE']),
            path: d.pick(paths),
            status: d.pick([200, 200, 201, 204, 404]),
            duration: d.int(1, 900) / 1000,
          }),
      ],
      [15, () => line('debug', 'cache/lru.go:41', 'cache refreshed', { keys: d.int(100, 9000), took: d.goDuration(300) })],
      [8, () => line('warn', 'store/pg.go:120', 'slow query', { table: d.pick(['items', 'carts', 'orders', 'users']), duration: d.goDuration(5000) })],
      [
        4,
        () =>
          line('error', 'server/http.go:102', 'request failed', {
            path: d.pick(paths),
            error: d.pick(['context deadline exceeded', 'dial tcp 10.0.3.7:5432: connect: connection refused']),
          }),
      ],
      [3, () => line('info', 'leader/elect.go:64', 'leader elected', { identity: d.pick(pods) })],
      [3, () => line('warn', 'client/retry.go:33', 'retrying request', { attempt: d.int(1, 5), backoff: d.goDuration(2000) })],
      [1, () => line('error', 'queue/consumer.go:77', 'message dropped', { queue: d.pick(['emails', 'events']), reason: 'max retries reached' })],
    ])
  );
}

/**
 * The generated files by name, each a few thousand lines at most, each from its own seeded stream: every
 * `<name>.log` with its ground truth `<name>.events.txt` (one event id per line, as beside the Loghub samples),
 * so `npm run eval:templates -- --data backend/testdata/generated` measures grouping accuracy on them.
 */
export function generateModern(seed = MODERN_SEED): Record<string, string> {
  const logs: Record<string, Generated> = {
    'distributor-logfmt': distributor(seed),
    'ingester-logfmt': ingester(seed + 1),
    'kubernetes-klog': kubernetes(seed + 2),
    'drone-json': drone(seed + 3),
    'android-logcat': logcat(seed + 4),
    'windows-cbs': windowsCbs(seed + 5),
    'node-pino': pino(seed + 6),
    'postgres': postgres(seed + 7),
    'cri-zap': criZap(seed + 8),
  };
  const files: Record<string, string> = {};
  for (const [name, { log, events }] of Object.entries(logs)) {
    files[`${name}.log`] = log;
    files[`${name}.events.txt`] = events;
  }
  return files;
}

if (require.main === module) {
  const out = resolve(process.argv[2] ?? GENERATED_DIR);
  mkdirSync(out, { recursive: true });
  const files = generateModern();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(out, name), text);
  process.stdout.write(`wrote ${Object.keys(files).join(', ')} to ${out}\n`);
}
