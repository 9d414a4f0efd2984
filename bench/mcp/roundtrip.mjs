// MCP request round trips, kiln mcp against the reference server @modelcontextprotocol/server-everything, side
// by side with the same client (the official TypeScript SDK): tools/list and ping over stdio and Streamable
// HTTP, one caller at a time (median and p90 latency) and 8 concurrent callers (throughput).
//
// Usage: node roundtrip.mjs   with KILN, EVERYTHING (server-everything's dist/index.js) and ROUNDS set.
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const { KILN, EVERYTHING, KILN_WORKSPACE } = process.env;
const ROUNDS = Number(process.env.ROUNDS || 2000);
const CONCURRENCY = 8;

const servers = {
  kiln: {
    stdio: { command: KILN, args: ['mcp', '--root', KILN_WORKSPACE] },
    http: (port) => ({ command: KILN, args: ['mcp', '--transport', 'http', '--listen', `127.0.0.1:${port}`, '--root', KILN_WORKSPACE], url: `http://127.0.0.1:${port}/mcp` }),
  },
  'server-everything': {
    stdio: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
    http: (port) => ({ command: process.execPath, args: [EVERYTHING, 'streamableHttp'], env: { PORT: String(port) }, url: `http://127.0.0.1:${port}/mcp` }),
  },
};

async function startHttp(spec) {
  const proc = spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    let err = '';
    proc.stderr.on('data', (d) => { err += d; if (/listening/i.test(err)) resolve(); });
    proc.on('exit', () => reject(new Error(`${spec.command} exited: ${err}`)));
  });
  return proc;
}

async function connect(kind, name, port) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  if (kind === 'stdio') {
    const s = servers[name].stdio;
    await client.connect(new StdioClientTransport({ command: s.command, args: s.args, stderr: 'ignore' }));
    return { client, stop: () => client.close() };
  }
  const spec = servers[name].http(port);
  const proc = await startHttp(spec);
  await client.connect(new StreamableHTTPClientTransport(new URL(spec.url)));
  const extra = [];
  for (let i = 1; i < CONCURRENCY; i++) {
    const c = new Client({ name: `bench-${i}`, version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(spec.url)));
    extra.push(c);
  }
  return {
    client, extra,
    stop: async () => { for (const c of [client, ...extra]) await c.close(); proc.kill('SIGKILL'); },
  };
}

const call = {
  'tools/list': (c) => c.listTools(),
  ping: (c) => c.ping(),
};

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)] };
}

async function latency(client, method) {
  for (let i = 0; i < 100; i++) await call[method](client);  // warm up (JIT, connections)
  const samples = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = process.hrtime.bigint();
    await call[method](client);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return stats(samples);
}

// Requests per second from CONCURRENCY callers, each a client of its own over HTTP, or sharing the one stdio
// connection.
async function throughput(clients, method) {
  const per = Math.ceil(ROUNDS / clients.length) * 2;
  const t = process.hrtime.bigint();
  await Promise.all(clients.map(async (c) => { for (let i = 0; i < per; i++) await call[method](c); }));
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return (per * clients.length) / seconds;
}

const results = [];
let port = 39400 + Math.floor(Math.random() * 500);
for (const kind of ['stdio', 'http']) {
  for (const name of Object.keys(servers)) {
    const conn = await connect(kind, name, port++);
    for (const method of Object.keys(call)) {
      const l = await latency(conn.client, method);
      const callers = kind === 'http' ? [conn.client, ...conn.extra] : Array(CONCURRENCY).fill(conn.client);
      const rps = await throughput(callers, method);
      results.push({ kind, name, method, ...l, rps });
    }
    await conn.stop();
  }
}

const fmt = (x) => x.toFixed(3).padStart(8);
console.log(`MCP round trips, ${ROUNDS} sequential requests after 100 warm-up; ${CONCURRENCY} concurrent callers for req/s`);
console.log('transport  method      server              median ms   p90 ms    req/s');
for (const r of results) {
  console.log(`${r.kind.padEnd(10)} ${r.method.padEnd(11)} ${r.name.padEnd(18)} ${fmt(r.median)} ${fmt(r.p90)} ${r.rps.toFixed(0).padStart(8)}`);
}
console.log('\nratios (server-everything / kiln; above 1 means kiln is faster)');
for (const kind of ['stdio', 'http']) {
  for (const method of Object.keys(call)) {
    const k = results.find((r) => r.kind === kind && r.method === method && r.name === 'kiln');
    const e = results.find((r) => r.kind === kind && r.method === method && r.name === 'server-everything');
    console.log(`${kind.padEnd(6)} ${method.padEnd(11)} latency ${(e.median / k.median).toFixed(2)}x   throughput ${(k.rps / e.rps).toFixed(2)}x`);
  }
}
