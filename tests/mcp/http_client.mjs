// Raw HTTP helpers shared by the wire-level tests: kiln mcp on a free loopback port, and POSTs whose answer is
// read as JSON or, for an SSE answer, as the last message event.
import { spawn } from 'node:child_process';
import net from 'node:net';

const { KILN, WORKSPACE } = process.env;

/// kiln mcp over HTTP on a free loopback port, with extra flags.
export async function startHttp(extraArgs = []) {
  const proc = spawn(KILN, ['mcp', '--transport', 'http', '--listen', '127.0.0.1:0', '--root', WORKSPACE, ...extraArgs],
    { stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  const url = await new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      stderr += d;
      const m = stderr.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', () => reject(new Error(`kiln mcp exited: ${stderr}`)));
  });
  proc.exitedEarly = () => proc.exitCode !== null || proc.signalCode !== null;
  return { proc, url };
}

/// POSTs `body` (a string as is, else JSON); `json` is the answer's JSON, or the last SSE message's, or null.
export async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* SSE */ }
  if (json === null) {
    const data = text.split('\n').filter((l) => l.startsWith('data: {') || l.startsWith('data: ['));
    if (data.length) json = JSON.parse(data[data.length - 1].slice(6));
  }
  return { status: res.status, headers: res.headers, text, json };
}

/// Opens `n` raw sockets to the server of `url`; each sends `head` (maybe nothing) and then waits. What the server
/// answers collects in each socket's `received`.
export async function openSockets(url, n, head = '') {
  const { hostname, port } = new URL(url);
  const sockets = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(Number(port), hostname);
    s.on('error', () => {});
    s.received = '';
    s.on('data', (d) => { s.received += d; });
    await new Promise((res) => s.once('connect', res));
    if (head) s.write(head);
    sockets.push(s);
  }
  return sockets;
}
