/**
 * A misbehaving HTTP peer on loopback for the pull sources' tests: each request is answered by the test's
 * handler (which may stall, drip, redirect, compress, or answer nonsense), with the request body read first.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenLoopback } from './loopback';

export type HostileHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export class HostilePeer {
  readonly requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  private server: Server | null = null;
  constructor(private readonly handler: HostileHandler) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        this.handler(req, res, body);
      });
    });
    return listenLoopback(this.server);
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }
}
