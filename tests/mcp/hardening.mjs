// kiln mcp against the second round of hostile probes (issue 22): requests that once killed the server or left it
// stuck, task and session ids that another client could use, idle sockets that crowded out real clients, an
// open door by default, and requests left unanswered when stdin closed. Raw JSON at the wire, no SDK.
//
// Usage: node hardening.mjs   with KILN and WORKSPACE set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { startHttp, post, openSockets } from './http_client.mjs';
import { StdioServer } from './stdio_client.mjs';

const { KILN, WORKSPACE } = process.env;
const LATEST = '2025-11-25';
const init = (id, version = LATEST) => ({
  jsonrpc: '2.0', id, method: 'initialize',
  params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'hardening', version: '1' } },
});
const OVERFLOW = 'p9999999999999999999999999';
const TASKS = 'io.modelcontextprotocol/tasks';
const modern = (id, method, params = {}) => ({
  jsonrpc: '2.0', id, method,
  params: { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': { extensions: { [TASKS]: {} } } } },
});
const modernHeaders = (method, name) => ({
  'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': method, ...(name === undefined ? {} : { 'Mcp-Name': name }),
});

async function session(url, headers = {}) {
  const r = await post(url, init(1), { Accept: 'application/json', ...headers });
  assert.equal(r.status, 200, r.text);
  const h = { ...headers, 'Mcp-Session-Id': r.headers.get('mcp-session-id'), 'MCP-Protocol-Version': LATEST, Accept: 'application/json' };
  await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, h);
  return h;
}

/// Waits for `proc` to exit by itself within `ms`; its exit code.
async function exitsWithin(proc, ms) {
  if (proc.exitCode !== null) return proc.exitCode;
  const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
  const [code, signal] = await once(proc, 'exit');
  clearTimeout(timer);
  assert.equal(signal, null, `kiln mcp did not exit by itself within ${ms} ms`);
  return code;
}

test('stdio: a list cursor past any number is invalid params, and the server lives on', async () => {
  const s = new StdioServer();
  s.send(init(1));
  await s.next();
  for (const [id, cursor] of [[2, OVERFLOW], [3, 'p-1'], [4, 'p 1'], [5, 'p99999'], [6, '']]) {
    s.send({ jsonrpc: '2.0', id, method: 'tools/list', params: { cursor } });
    const m = await s.next();
    assert.equal(m.id, id);
    assert.equal(m.error?.code, -32602, `cursor ${JSON.stringify(cursor)}: ${JSON.stringify(m)}`);
  }
  s.send({ jsonrpc: '2.0', id: 7, method: 'resources/list', params: { cursor: OVERFLOW } });
  assert.equal((await s.next()).error.code, -32602);
  s.send({ jsonrpc: '2.0', id: 8, method: 'ping' });
  assert.deepEqual(await s.next(), { jsonrpc: '2.0', id: 8, result: {} });
  s.proc.stdin.end();
  assert.equal(await s.exited(), 0);
});

test('http: a bad cursor is answered, its request id is free again, and SIGTERM stops at once', async () => {
  const { proc, url } = await startHttp();
  const h = await session(url);
  let r = await post(url, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { cursor: OVERFLOW } }, h);
  assert.equal(r.status, 200);
  assert.equal(r.json.error.code, -32602);
  r = await post(url, { jsonrpc: '2.0', id: 2, method: 'ping' }, h);
  assert.deepEqual(r.json, { jsonrpc: '2.0', id: 2, result: {} }, 'the id is not left "in use"');
  proc.kill('SIGTERM');
  assert.equal(await exitsWithin(proc, 5_000), 0, 'nothing is left in flight to wait for');
});

/// kiln mcp over stdio with the conformance fixtures, initialized, running request 2: slow_compute for `seconds`.
async function startSlowCall(seconds, label = '') {
  const s = new StdioServer(['--conformance-fixtures']);
  s.send(init(1));
  await s.next();
  s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  s.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'slow_compute', arguments: { seconds, label } } });
  return s;
}

test('stdio: a request still running when stdin closes is finished and answered', async () => {
  const s = await startSlowCall(1.5, 'eof');
  s.send({ jsonrpc: '2.0', id: 3, method: 'ping' });
  s.proc.stdin.end();
  const answers = [await s.next(), await s.next()];
  assert.deepEqual(answers.map((m) => m.id).sort(), [2, 3]);
  assert.match(answers.find((m) => m.id === 2).result.content[0].text, /Computed eof in 1500 ms/);
  assert.equal(await s.exited(), 0);
});

test('stdio: SIGTERM cancels what runs and still answers it', async () => {
  const s = await startSlowCall(120);
  await new Promise((r) => setTimeout(r, 300));
  s.proc.kill('SIGTERM');
  const m = await s.next();
  assert.equal(m.id, 2);
  assert.match(m.result.content[0].text, /cancelled/);
  assert.equal(await s.exited(), 0);
});

test('stdio: a request the client cancelled gets no answer', async () => {
  const s = await startSlowCall(120);
  await new Promise((r) => setTimeout(r, 200));
  s.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } });
  s.send({ jsonrpc: '2.0', id: 3, method: 'ping' });
  assert.deepEqual(await s.next(), { jsonrpc: '2.0', id: 3, result: {} });
  s.proc.stdin.end();
  assert.equal(await s.exited(), 0);
  assert.equal(s.lines.length, 0, `no answer to the cancelled request: ${JSON.stringify(s.lines)}`);
});

test('http: tasks and sessions belong to the token that made them', async (t) => {
  const tokenFile = path.join(WORKSPACE, '..', 'two-tokens');
  fs.writeFileSync(tokenFile, '# one per client\nalice-0123456789abcdef\n\nbob-0123456789abcdef01\n', { mode: 0o600 });
  const { proc, url } = await startHttp(['--token-file', tokenFile, '--conformance-fixtures']);
  t.after(() => proc.kill('SIGKILL'));
  const alice = { Authorization: 'Bearer alice-0123456789abcdef' };
  const bob = { Authorization: 'Bearer bob-0123456789abcdef01' };

  let r = await post(url, modern(1, 'tools/call', { name: 'slow_compute', arguments: { seconds: 60 } }),
    { ...modernHeaders('tools/call', 'slow_compute'), ...alice });
  assert.equal(r.json.result.resultType, 'task', r.text);
  const { taskId } = r.json.result;
  assert.match(taskId, /^task-[0-9a-f]{32}$/);
  for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
    const params = method === 'tasks/update' ? { taskId, inputResponses: {} } : { taskId };
    r = await post(url, modern(2, method, params), { ...modernHeaders(method, taskId), ...bob });
    assert.equal(r.json.error?.code, -32602, `${method} by another token: ${r.text}`);
    assert.match(r.json.error.message, /unknown task/);
  }
  r = await post(url, modern(3, 'tasks/get', { taskId }), { ...modernHeaders('tasks/get', taskId), ...alice });
  assert.equal(r.json.result.status, 'working', 'the owner sees it, still running: the other token cancelled nothing');
  r = await post(url, modern(4, 'tasks/cancel', { taskId }), { ...modernHeaders('tasks/cancel', taskId), ...alice });
  assert.ok(r.json.result, r.text);

  const h = await session(url, alice);
  r = await post(url, { jsonrpc: '2.0', id: 5, method: 'ping' }, { ...h, ...bob });
  assert.equal(r.status, 404, 'another token does not reach the session');
  r = await post(url, { jsonrpc: '2.0', id: 6, method: 'ping' }, h);
  assert.deepEqual(r.json.result, {});
});

test('http: session and task ids are 128 random bits, never repeated', async (t) => {
  const { proc, url } = await startHttp();
  t.after(() => proc.kill('SIGKILL'));
  const ids = new Set();
  for (let i = 0; i < 50; i++) {
    const r = await post(url, init(1), { Accept: 'application/json' });
    const id = r.headers.get('mcp-session-id');
    assert.match(id, /^[0-9a-f]{32}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 50);
});

test('http: idle and half-open sockets cannot keep a client with a request out', async (t) => {
  const { proc, url } = await startHttp(['--max-connections', '20']);
  t.after(() => proc.kill('SIGKILL'));
  const { hostname, port } = new URL(url);
  const silent = await openSockets(url, 20, '');
  const half = await openSockets(url, 20, `POST /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\n`);
  t.after(() => [...silent, ...half].forEach((s) => s.destroy()));
  // Each request's connection takes the place of one that is only waiting, at once (not after the 30 s idle time).
  for (let i = 0; i < 3; i++) {
    const r = await post(url, init(1), { Accept: 'application/json' });
    assert.equal(r.status, 200, r.text);
  }
});

test('http: with every connection busy, a new one is refused with a clear 503', async (t) => {
  const { proc, url } = await startHttp(['--max-connections', '20']);
  t.after(() => proc.kill('SIGKILL'));
  const h = await session(url);
  // Server-to-client streams hold their connections (and workers): 20 of them fill the server.
  const controllers = [];
  for (let i = 0; i < 20; i++) {
    const c = new AbortController();
    controllers.push(c);
    const headers = { ...h, Accept: 'text/event-stream' };
    const res = await fetch(url, { headers, signal: c.signal }).catch(() => null);
    if (!res || res.status !== 200) break;
  }
  t.after(() => controllers.forEach((c) => c.abort()));
  const [late] = await openSockets(url, 1, '');
  await new Promise((res) => setTimeout(res, 300));
  late.destroy();
  assert.match(late.received, /^HTTP\/1.1 503/);
  assert.match(late.received, /too many connections \(20 are open\)/);
});

test('http: a non-loopback address needs a token, or --no-auth said out loud', async () => {
  let proc = spawn(KILN, ['mcp', '--transport', 'http', '--listen', '0.0.0.0:0', '--root', WORKSPACE], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  assert.notEqual(await exitsWithin(proc, 10_000), 0);
  assert.match(stderr, /can be reached from other machines.*--token-file FILE --generate-token.*--no-auth/s);

  proc = spawn(KILN, ['mcp', '--transport', 'http', '--listen', '0.0.0.0:0', '--no-auth', '--root', WORKSPACE], { stdio: ['ignore', 'ignore', 'pipe'] });
  stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  for (let i = 0; i < 100 && !/WARNING/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
  proc.kill('SIGTERM');
  await once(proc, 'exit');
  assert.match(stderr, /WARNING: --no-auth: anyone who can reach/);

  const stdio = spawn(KILN, ['mcp', '--no-auth', '--root', WORKSPACE], { stdio: ['pipe', 'ignore', 'pipe'] });
  assert.notEqual(await exitsWithin(stdio, 10_000), 0, 'the HTTP-only flags are refused over stdio, not ignored');
});

test('http: --generate-token writes a fresh token (0600) and the server takes it', async (t) => {
  const tokenFile = path.join(WORKSPACE, '..', `generated-${process.pid}`);
  fs.rmSync(tokenFile, { force: true });
  const { proc, url } = await startHttp(['--token-file', tokenFile, '--generate-token']);
  t.after(() => proc.kill('SIGKILL'));
  assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600);
  const token = fs.readFileSync(tokenFile, 'utf8').trim();
  assert.match(token, /^[0-9a-f]{64}$/);
  let r = await post(url, init(1), { Accept: 'application/json' });
  assert.equal(r.status, 401);
  r = await post(url, init(1), { Accept: 'application/json', Authorization: `Bearer ${token}` });
  assert.equal(r.status, 200);
  // A second start keeps the token it finds.
  const again = await startHttp(['--token-file', tokenFile, '--generate-token']);
  again.proc.kill('SIGKILL');
  assert.equal(fs.readFileSync(tokenFile, 'utf8').trim(), token);
});

test('a name with a digest means that digest, over MCP too', async () => {
  const digest = JSON.parse(execFileSync(KILN, ['inspect', 'busybox:test'], { encoding: 'utf8' })).digest;
  const wrong = `sha256:${'0'.repeat(64)}`;
  fs.mkdirSync(path.join(WORKSPACE, 'pin'), { recursive: true });
  fs.writeFileSync(path.join(WORKSPACE, 'pin', 'Dockerfile'), `FROM busybox:test@${digest}\nRUN true\n`);
  const s = new StdioServer();
  s.send(init(1));
  await s.next();
  s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  const call = async (id, name, args) => {
    s.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
    for (;;) {
      const m = await s.next(120_000);
      if (m.id === id) return m.result;
    }
  };
  let r = await call(2, 'build_image', { context: 'pin', tags: [`pinned@${digest}`] });
  assert.equal(r.isError, true);
  assert.match(JSON.stringify(r.content), /a tag cannot name a digest/);
  r = await call(3, 'build_image', { context: 'pin', tags: ['frompinned:1'] });
  assert.notEqual(r.isError, true, `FROM name@digest builds on that digest: ${JSON.stringify(r.content)}`);
  r = await call(4, 'inspect_image', { ref: `busybox:test@${wrong}` });
  assert.equal(r.isError, true, 'a digest the store does not hold is not found, whatever the tag names');
  r = await call(5, 'inspect_image', { ref: `busybox:test@${digest}` });
  assert.notEqual(r.isError, true, JSON.stringify(r.content));
  s.proc.stdin.end();
  assert.equal(await s.exited(), 0);
});
