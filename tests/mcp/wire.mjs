// kiln mcp at the wire: malformed, oversized and out-of-order messages over stdio and Streamable HTTP, session
// and header rules, authentication, and a clean stop on SIGTERM and when stdin closes. Raw bytes, no SDK, so
// that what a sloppy or hostile client sends is exactly what the server sees.
//
// Usage: node wire.mjs   with KILN and WORKSPACE set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { startHttp, post } from './http_client.mjs';
import { StdioServer } from './stdio_client.mjs';

const { KILN, WORKSPACE } = process.env;
const LATEST = '2025-11-25';
const init = (id, version = LATEST) => ({
  jsonrpc: '2.0', id, method: 'initialize',
  params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'wire', version: '1' } },
});

test('stdio: malformed and oversized messages get JSON-RPC errors and the session goes on', async () => {
  const s = new StdioServer();
  s.send(init(1));
  assert.equal((await s.next()).result.protocolVersion, LATEST);
  s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });

  s.write('{"jsonrpc": "2.0", "id": 2, "method": \n');
  let m = await s.next();
  assert.equal(m.error.code, -32700);
  assert.equal(m.id, null);

  s.send({ jsonrpc: '2.0', id: 3 });
  m = await s.next();
  assert.equal(m.error.code, -32600);
  assert.equal(m.id, 3);

  s.send({ jsonrpc: '1.0', id: 4, method: 'ping' });
  assert.equal((await s.next()).error.code, -32600);

  s.send({ jsonrpc: '2.0', id: 5, method: 'no/such/method' });
  m = await s.next();
  assert.equal(m.error.code, -32601);
  assert.equal(m.id, 5);

  s.send({ jsonrpc: '2.0', id: 'six', method: 'tools/call', params: { name: 'read_file', arguments: 'not an object' } });
  m = await s.next();
  assert.equal(m.error.code, -32602);
  assert.equal(m.id, 'six');

  s.send([{ jsonrpc: '2.0', id: 7, method: 'ping' }]);
  m = await s.next();
  assert.equal(m.error.code, -32600, 'no batches in 2025-11-25');

  s.write('x'.repeat(17 << 20) + '\n');  // above the 16 MiB message limit
  m = await s.next(30_000);
  assert.equal(m.error.code, -32700);
  assert.match(m.error.message, /larger than/);

  s.send({ jsonrpc: '2.0', id: 8, method: 'ping' });
  assert.deepEqual(await s.next(), { jsonrpc: '2.0', id: 8, result: {} });

  s.proc.stdin.end();
  assert.equal(await s.exited(), 0, 'kiln mcp ends when its input does');
});

test('stdio: batches work under 2025-03-26, where JSON-RPC batching is part of MCP', async () => {
  const s = new StdioServer();
  s.send(init(1, '2025-03-26'));
  assert.equal((await s.next()).result.protocolVersion, '2025-03-26');
  s.send([{ jsonrpc: '2.0', id: 2, method: 'ping' }, { jsonrpc: '2.0', id: 3, method: 'tools/list' }]);
  const batch = await s.next();
  assert.ok(Array.isArray(batch));
  assert.deepEqual(batch.map((x) => x.id).sort(), [2, 3]);
  s.proc.stdin.end();
  assert.equal(await s.exited(), 0);
});

test('stdio: SIGTERM stops the server cleanly', async () => {
  const s = new StdioServer();
  s.send(init(1));
  await s.next();
  s.proc.kill('SIGTERM');
  assert.equal(await s.exited(), 0);
  assert.match(s.stderr, /stopping/);
});

test('http: malformed bodies, sessions, headers and origins', async (t) => {
  const { proc, url } = await startHttp();
  t.after(() => proc.kill('SIGKILL'));

  let r = await post(url, '{"jsonrpc":');
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, -32700);

  r = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(5 << 20) } }));
  assert.equal(r.status, 413);
  assert.match(r.json.error.message, /exceeds the limit/);

  r = await post(url, init(1), { Accept: 'application/json' });
  assert.equal(r.status, 200);
  const session = r.headers.get('mcp-session-id');
  assert.match(session, /^[\x21-\x7e]+$/, 'a visible-ASCII session id');
  const h = { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': LATEST };

  r = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, h);
  assert.equal(r.status, 202);

  r = await post(url, { jsonrpc: '2.0', id: 2, method: 'ping' });
  assert.equal(r.status, 400, 'a request without the session header');

  r = await post(url, { jsonrpc: '2.0', id: 2, method: 'ping' }, { ...h, 'Mcp-Session-Id': 'no-such-session' });
  assert.equal(r.status, 404);

  r = await post(url, { jsonrpc: '2.0', id: 2, method: 'ping' }, { ...h, 'MCP-Protocol-Version': '1999-01-01' });
  assert.equal(r.status, 400);

  r = await post(url, { jsonrpc: '2.0', id: 2, method: 'no/such/method' }, { ...h, Accept: 'application/json' });
  assert.equal(r.json.error.code, -32601);

  r = await post(url, { jsonrpc: '2.0', id: 3, method: 'ping' }, { ...h, Origin: 'http://evil.example' });
  assert.equal(r.status, 403, 'a foreign Origin (DNS rebinding)');

  r = await post(url, { jsonrpc: '2.0', id: 3, method: 'ping' }, { ...h, Origin: new URL(url).origin, Accept: 'application/json' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.result, {});

  r = await post(url, { jsonrpc: '2.0', id: 5, method: 'ping' }, h);
  assert.match(r.headers.get('content-type'), /^application\/json/, 'a plain answer when JSON is acceptable and listed first');
  assert.equal(r.headers.get('content-encoding'), null, 'small answers are not compressed');
  r = await post(url, { jsonrpc: '2.0', id: 6, method: 'ping' }, { ...h, Accept: 'text/event-stream, application/json' });
  assert.match(r.headers.get('content-type'), /^text\/event-stream/, 'a stream when the client lists it first');
  assert.match(r.text, /"id":6,"result":\{\}/);
  r = await post(url, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'search_files', arguments: { pattern: 'x' } } }, h);
  assert.match(r.headers.get('content-type'), /^text\/event-stream/, 'tools/call may send progress: a stream');
  r = await post(url, { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'list_images', arguments: {} } }, h);
  assert.match(r.headers.get('content-type'), /^application\/json/, 'a quick tool (bounded work, no progress) answers with JSON');

  let res = await fetch(url, { headers: h });
  assert.equal(res.status, 406, 'GET without Accept: text/event-stream');
  await res.arrayBuffer();

  res = await fetch(url, { method: 'DELETE', headers: h });
  assert.equal(res.status, 200);
  r = await post(url, { jsonrpc: '2.0', id: 4, method: 'ping' }, h);
  assert.equal(r.status, 404, 'the session ended');
});

test('http: --token-file requires the bearer token', async (t) => {
  const tokenFile = path.join(WORKSPACE, '..', 'token');
  fs.writeFileSync(tokenFile, 's3cret-token\n');
  const { proc, url } = await startHttp(['--token-file', tokenFile]);
  t.after(() => proc.kill('SIGKILL'));
  let r = await post(url, init(1));
  assert.equal(r.status, 401);
  r = await post(url, init(1), { Authorization: 'Bearer wrong' });
  assert.equal(r.status, 401);
  r = await post(url, init(1), { Authorization: 'Bearer s3cret-token', Accept: 'application/json' });
  assert.equal(r.status, 200);
  assert.equal(r.json.result.protocolVersion, LATEST);
});

test('http: SIGTERM stops the server cleanly', async () => {
  const { proc, url } = await startHttp();
  const r = await post(url, init(1), { Accept: 'application/json' });
  const session = r.headers.get('mcp-session-id');
  // An open server-to-client stream must not keep the server from stopping.
  const controller = new AbortController();
  const stream = await fetch(url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session }, signal: controller.signal });
  assert.equal(stream.status, 200);
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  const [code, signal] = await once(proc, 'exit');
  clearTimeout(timer);
  controller.abort();
  assert.equal(signal, null, 'kiln mcp stopped by itself');
  assert.equal(code, 0);
});

// --- 2026-07-28: stateless requests carry their own _meta; the same guards hold as for sessions. ---

const MODERN = '2026-07-28';
const meta = (capabilities = {}) => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': capabilities,
});
const modern = (id, method, params = {}, capabilities = {}) => ({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta(capabilities) } });
const modernHeaders = (method, name) => ({
  'MCP-Protocol-Version': MODERN, 'Mcp-Method': method, ...(name === undefined ? {} : { 'Mcp-Name': name }),
});

test('http, 2026-07-28: both eras on one endpoint, with the same guards', async (t) => {
  const tokenFile = path.join(WORKSPACE, '..', 'token-modern');
  fs.writeFileSync(tokenFile, 'modern-token\n');
  const { proc, url } = await startHttp(['--token-file', tokenFile, '--read-only']);
  t.after(() => proc.kill('SIGKILL'));
  const auth = { Authorization: 'Bearer modern-token' };

  let r = await post(url, modern(1, 'server/discover'), modernHeaders('server/discover'));
  assert.equal(r.status, 401, 'a stateless request needs the bearer token too');
  r = await post(url, modern(2, 'server/discover'), { ...modernHeaders('server/discover'), ...auth, Origin: 'http://evil.example' });
  assert.equal(r.status, 403, 'and a foreign Origin is refused');

  r = await post(url, modern(4, 'server/discover'), { ...modernHeaders('server/discover'), ...auth });
  assert.equal(r.status, 200);
  assert.equal(r.json.result.resultType, 'complete');
  assert.ok(r.json.result.supportedVersions.includes(MODERN) && r.json.result.supportedVersions.includes(LATEST));
  assert.equal(r.headers.get('mcp-session-id'), null, 'no session in this era');

  r = await post(url, modern(5, 'tools/list'), { ...modernHeaders('tools/list'), ...auth });
  const names = r.json.result.tools.map((x) => x.name);
  assert.ok(names.includes('inspect_image') && !names.includes('build_image') && !names.includes('write_file'),
    '--read-only holds in this era too');
  assert.equal(typeof r.json.result.ttlMs, 'number');

  r = await post(url, modern(6, 'tools/call', { name: 'read_file', arguments: { path: '/etc/passwd' } }),
    { ...modernHeaders('tools/call', 'read_file'), ...auth });
  assert.equal(r.json.result.isError, true);
  assert.match(r.json.result.content[0].text, /outside the allowed roots/);

  r = await post(url, modern(7, 'tools/list'), { ...modernHeaders('prompts/list'), ...auth });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, -32020, 'Mcp-Method must match the body');
  r = await post(url, modern(8, 'ping'), { ...modernHeaders('ping'), ...auth });
  assert.equal(r.status, 404);
  assert.equal(r.json.error.code, -32601, 'ping is gone in this era');
  r = await post(url, { jsonrpc: '2.0', id: 9, method: 'tools/list', params: {} }, { ...modernHeaders('tools/list'), ...auth });
  assert.equal(r.status, 400, 'a stateless request without _meta');
  assert.equal(r.json.error.code, -32602);

  // A legacy client on the same endpoint, at the same time.
  r = await post(url, init(10), { ...auth, Accept: 'application/json' });
  assert.equal(r.status, 200);
  assert.equal(r.json.result.protocolVersion, LATEST);
  assert.ok(r.headers.get('mcp-session-id'), 'the legacy era keeps its sessions');
});

test('stdio, 2026-07-28: requests of both eras on one connection, and a listen stream', async (t) => {
  const server = new StdioServer();
  t.after(() => server.proc.kill('SIGKILL'));
  server.send(modern(1, 'server/discover'));
  let m = await server.next();
  assert.equal(m.id, 1);
  assert.ok(m.result.capabilities.extensions['io.modelcontextprotocol/tasks']);
  server.send(modern(2, 'tools/call', { name: 'list_directory', arguments: {} }, {}));
  m = await server.next();
  assert.equal(m.id, 2);
  assert.equal(m.result.resultType, 'complete');
  server.send(modern('listen', 'subscriptions/listen', { notifications: { resourcesListChanged: true, taskIds: ['x'] } }));
  m = await server.next();
  assert.equal(m.id, 'listen');
  assert.equal(m.error.code, -32021, 'task notifications need the tasks extension');
  server.send(modern('listen2', 'subscriptions/listen', { notifications: { resourcesListChanged: true } }));
  m = await server.next();
  assert.equal(m.method, 'notifications/subscriptions/acknowledged');
  assert.equal(m.params._meta['io.modelcontextprotocol/subscriptionId'], 'listen2');
  server.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'listen2' } });
  server.send(init(3));
  m = await server.next();
  assert.equal(m.id, 3, 'a legacy initialize is answered too, and the cancelled listen stream says nothing');
  assert.equal(m.result.protocolVersion, LATEST);
  server.proc.stdin.end();
  assert.equal(await server.exited(), 0);
});

test('server.json (the MCP Registry manifest) names only flags kiln mcp has, and the revisions it speaks', async () => {
  const manifest = JSON.parse(fs.readFileSync(new URL('../../server.json', import.meta.url), 'utf8'));
  assert.ok(manifest.description.length <= 100, 'the registry caps descriptions at 100 characters');
  assert.match(manifest.name, /^[^/]+\/[^/]+$/);
  const help = execFileSync(KILN, ['mcp', '--help'], { encoding: 'utf8' });
  for (const pkg of manifest.packages) {
    assert.equal(pkg.packageArguments[0].value, 'mcp');
    for (const arg of pkg.packageArguments.filter((a) => a.type === 'named')) {
      assert.ok(help.includes(arg.name), `kiln mcp has ${arg.name}`);
    }
  }
  const server = new StdioServer();
  server.send({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta() } });
  const discovered = (await server.next()).result;
  server.proc.kill('SIGKILL');
  assert.deepEqual(manifest._meta['io.modelcontextprotocol.registry/publisher-provided'].protocolVersions,
    discovered.supportedVersions);
});
