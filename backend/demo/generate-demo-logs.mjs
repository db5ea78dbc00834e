// Generates the bundled demo logs (webshop.txt: healthy traffic; anomalies.txt: lines the demo injects).
// Synthetic, written for Scorpio, so they are redistributable under the project's licence.
// Deterministic: node backend/demo/generate-demo-logs.mjs [outDir]  (rewrites both files byte for byte).
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = process.argv[2] ?? dirname(fileURLToPath(import.meta.url));
let seed = 20261125;
const rand = () => {
  // mulberry32
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
const thread = () => `http-nio-8080-exec-${int(1, 24)}`;
const ip = () => `10.${int(0, 3)}.${int(0, 255)}.${int(1, 254)}`;
const user = () => `user-${int(1000, 99999)}`;
const order = () => `ord-${hex(8)}`;

// [weight, generator] pairs: a small web shop's healthy traffic.
const normal = [
  [30, () => `INFO  [${thread()}] c.s.api.ProductController - GET /api/products/${int(1, 9999)} 200 ${int(2, 40)}ms`],
  [12, () => `INFO  [${thread()}] c.s.api.ProductController - GET /api/products?category=${pick(['shoes', 'books', 'garden', 'toys', 'kitchen'])}&page=${int(1, 20)} 200 ${int(5, 90)}ms`],
  [10, () => `INFO  [${thread()}] c.s.api.CartController - POST /api/cart/items 201 ${int(4, 60)}ms user=${user()}`],
  [6, () => `INFO  [${thread()}] c.s.api.CartController - DELETE /api/cart/items/${int(1, 500)} 204 ${int(2, 30)}ms user=${user()}`],
  [5, () => `INFO  [${thread()}] c.s.api.OrderController - POST /api/orders 201 ${int(40, 300)}ms order=${order()} items=${int(1, 9)}`],
  [5, () => `INFO  [payment-worker-${int(1, 4)}] c.s.payment.PaymentService - payment authorised order=${order()} amount=${int(5, 900)}.${int(10, 99)} EUR provider=${pick(['stripe', 'adyen'])}`],
  [4, () => `INFO  [mail-sender-1] c.s.mail.Mailer - order confirmation sent order=${order()} to=${user()}@example.com`],
  [6, () => `DEBUG [${thread()}] c.s.cache.ProductCache - cache ${pick(['hit', 'hit', 'hit', 'miss'])} key=product:${int(1, 9999)}`],
  [4, () => `INFO  [${thread()}] c.s.auth.SessionFilter - session refreshed user=${user()} ip=${ip()}`],
  [3, () => `INFO  [${thread()}] c.s.auth.LoginController - POST /api/login 200 ${int(20, 120)}ms user=${user()}`],
  [2, () => `WARN  [${thread()}] c.s.auth.LoginController - POST /api/login 401 ${int(10, 60)}ms bad password user=${user()} ip=${ip()}`],
  [3, () => `INFO  [scheduler-1] c.s.stock.StockSync - synced ${int(50, 400)} stock levels from warehouse ${pick(['ams-1', 'fra-2', 'lon-1'])} in ${int(100, 900)}ms`],
  [2, () => `INFO  [hikari-housekeeper] c.z.h.pool.HikariPool - shop-db - Pool stats (total=${int(10, 20)}, active=${int(0, 9)}, idle=${int(1, 10)}, waiting=0)`],
  [2, () => `INFO  [${thread()}] c.s.api.SearchController - GET /api/search?q=${pick(['red+shoes', 'garden+hose', 'lego', 'coffee+grinder', 'novel'])} 200 ${int(10, 150)}ms hits=${int(0, 300)}`],
  [2, () => `INFO  [${thread()}] c.s.api.HealthController - GET /actuator/health 200 ${int(1, 4)}ms`],
  [1, () => `WARN  [${thread()}] c.s.api.ProductController - GET /api/products/${int(10000, 20000)} 404 ${int(2, 10)}ms`],
  [1, () => `INFO  [scheduler-1] c.s.report.DailyReport - report chunk ${int(1, 50)}/50 written rows=${int(100, 1000)}`],
];
const totalWeight = normal.reduce((s, [w]) => s + w, 0);
const normalLine = () => {
  let r = rand() * totalWeight;
  for (const [w, gen] of normal) {
    r -= w;
    if (r < 0) {
      return gen();
    }
  }
  return normal[0][1]();
};

const lines = Array.from({ length: 3000 }, normalLine);
writeFileSync(join(here, 'webshop.txt'), lines.join('\n') + '\n');

// What goes wrong: rare, unlike the healthy lines above.
const anomalies = [
  'ERROR [hikari-housekeeper] c.z.h.pool.HikariPool - shop-db - Connection is not available, request timed out after 30000ms',
  'ERROR [payment-worker-2] c.s.payment.PaymentService - provider adyen returned 502 Bad Gateway, circuit breaker OPEN for 60s',
  'FATAL [main] c.s.ShopApplication - java.lang.OutOfMemoryError: Java heap space while serialising CatalogSnapshot',
  'ERROR [scheduler-1] c.s.stock.StockSync - warehouse fra-2 unreachable: java.net.SocketTimeoutException: connect timed out',
  'WARN  [disk-monitor] c.s.ops.DiskMonitor - filesystem /var/lib/shop at 97% capacity, writes will fail soon',
  'ERROR [http-nio-8080-exec-7] c.s.api.OrderController - POST /api/orders 500 duplicate key value violates unique constraint "orders_pkey"',
  'ERROR [mail-sender-1] c.s.mail.Mailer - SMTP relay smtp.example.com refused connection: 554 5.7.1 relay access denied',
  'WARN  [http-nio-8080-exec-19] c.s.security.RateLimiter - 4000 requests in 10s from 203.0.113.77, blocking for 15 minutes',
  'ERROR [kafka-consumer-3] c.s.events.OrderEvents - deserialisation failed at offset 88213: unexpected end of input in partition orders-2',
  'FATAL [main] c.s.ShopApplication - TLS certificate for shop.example.com expired, refusing to start HTTPS listener',
  'ERROR [hikari-housekeeper] c.z.h.pool.HikariPool - shop-db - Failed to validate connection org.postgresql.jdbc.PgConnection (FATAL: terminating connection due to administrator command)',
  'CRIT  [kernel] oom-killer invoked: killed process 4711 (java) total-vm:8123456kB, anon-rss:6234567kB',
];
writeFileSync(join(here, 'anomalies.txt'), anomalies.join('\n') + '\n');
