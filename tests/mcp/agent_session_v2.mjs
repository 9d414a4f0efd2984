// An agent's session with kiln mcp in the 2026-07-28 era, driven by the official TypeScript SDK v2 client
// (@modelcontextprotocol/client, pinned to that revision): no initialize, every request with its own _meta. The
// agent writes and builds a Dockerfile; a build that needs a secret nobody named makes the server ask (an
// input-required round the client answers with its elicitation handler); builds run as tasks: one is cancelled
// mid-RUN and leaves no container behind, another's result is fetched from a second connection.
// Usage: node agent_session_v2.mjs stdio|http   with KILN, WORKSPACE, KILN_MCP_TEST_TOKEN set (MCP_URL for http).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const transportKind = process.argv[2];
const { KILN, WORKSPACE, MCP_URL, KILN_MCP_TEST_TOKEN } = process.env;
assert.ok(KILN && WORKSPACE && KILN_MCP_TEST_TOKEN && (transportKind === 'stdio' || MCP_URL),
  'KILN, WORKSPACE, KILN_MCP_TEST_TOKEN (and MCP_URL) must be set');
const SERVER_ARGS = ['mcp', '--root', WORKSPACE, '--secret', 'id=api_token,env=KILN_MCP_TEST_TOKEN'];
const TASKS = 'io.modelcontextprotocol/tasks';
const app = `v2-${transportKind}`;

const META = (capabilities) => ({
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': capabilities,
  'io.modelcontextprotocol/clientInfo': { name: 'agent-v2-tasks', version: '2.0.0' },
});

function newTransport() {
  return transportKind === 'stdio'
    ? new StdioClientTransport({ command: KILN, args: SERVER_ARGS, env: process.env, stderr: 'inherit' })
    : new StreamableHTTPClientTransport(new URL(MCP_URL));
}

async function connect(name, capabilities = {}) {
  const client = new Client({ name, version: '2.0.0' }, {
    capabilities,
    versionNegotiation: { mode: { pin: '2026-07-28' } },
  });
  await client.connect(newTransport());
  return client;
}

// The SDK's Client (2.4.0) does not know the tasks extension: it refuses a result of type "task". The task half
// of the session speaks through the SDK's transports directly, with the _meta envelope the revision requires.
async function connectTasks(capabilities) {
  const transport = newTransport();
  const pending = new Map();
  let next = 1;
  transport.onmessage = (m) => {
    const p = m.id !== undefined && pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    else p.resolve(m.result);
  };
  await transport.start();
  return {
    request(method, params = {}) {
      const id = `task-client-${next++}`;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        transport.send({ jsonrpc: '2.0', id, method, params: { ...params, _meta: META(capabilities) } }).catch(reject);
      });
    },
    close: () => transport.close(),
  };
}

const call = (client, name, args) => client.callTool({ name, arguments: args }, { timeout: 300_000 });

function containersOf(text) {
  try {
    return execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).trim();
  } catch {
    return '';  // pgrep exits 1 when nothing matches
  }
}

async function waitForTask(client, taskId, done, timeoutMs = 120_000) {
  const start = Date.now();
  for (;;) {
    const task = await client.request('tasks/get', { taskId });
    if (done(task)) return task;
    assert.ok(Date.now() - start < timeoutMs, `task ${taskId} stayed ${task.status}`);
    await new Promise((r) => setTimeout(r, task.pollIntervalMs ?? 200));
  }
}

test(`kiln mcp, 2026-07-28 over ${transportKind}`, async (t) => {
  const client = await connect('agent-v2', { elicitation: {} });
  t.after(() => client.close());
  const tasker = await connectTasks({ elicitation: {}, extensions: { [TASKS]: {} } });
  t.after(() => tasker.close());

  await t.test('speaks the modern era: discovery, tools with task support', async () => {
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    const { tools } = await client.listTools();
    assert.ok(tools.find((x) => x.name === 'build_image'), 'build_image is listed');
    const discovered = await tasker.request('server/discover');
    assert.ok(discovered.supportedVersions.includes('2026-07-28') && discovered.supportedVersions.includes('2025-11-25'));
    assert.ok(discovered.capabilities.extensions[TASKS], 'the tasks extension is offered');
    const listed = (await tasker.request('tools/list')).tools;
    assert.equal(listed.find((x) => x.name === 'build_image').execution?.taskSupport, 'optional');
    assert.equal(listed.find((x) => x.name === 'run_container').execution?.taskSupport, 'optional');
  });

  await t.test('writes, builds and runs an image without tasks', async () => {
    await call(client, 'write_file', { path: `${app}/Dockerfile`, content: 'FROM busybox:test\nRUN echo built > /built\nCMD ["cat", "/built"]\n' });
    const progress = [];
    const r = await client.callTool({ name: 'build_image', arguments: { context: app, tags: [`${app}:1`] } },
      { timeout: 300_000, onprogress: (p) => progress.push(p) });
    assert.ok(!r.isError, JSON.stringify(r.structuredContent ?? r.content));
    assert.equal(r.structuredContent.ok, true);
    assert.ok(progress.length >= 2, 'progress came on the response stream');
    const run = await call(client, 'run_container', { ref: `${app}:1` });
    assert.equal(run.structuredContent.stdout, 'built\n');
  });

  await t.test('a build needing an unnamed secret asks which secret to use', async () => {
    const asked = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(request.params);
      return { action: 'accept', content: { source: 'api_token' } };
    });
    await call(client, 'write_file', {
      path: `${app}-secret/Dockerfile`,
      content: 'FROM busybox:test\nRUN --mount=type=secret,id=deploy_key,required test -s /run/secrets/deploy_key && echo secret-used > /ok\n',
    });
    const r = await call(client, 'build_image', { context: `${app}-secret`, no_cache: true });
    assert.ok(!r.isError, JSON.stringify(r.structuredContent ?? r.content));
    assert.equal(asked.length, 1, 'one question, answered through an input-required round');
    assert.match(asked[0].message, /deploy_key/);
    assert.deepEqual(asked[0].requestedSchema.properties.source.enum, ['api_token']);
    assert.ok(!JSON.stringify(r).includes(KILN_MCP_TEST_TOKEN), 'the secret value never comes back');
  });

  await t.test('a build runs as a task, shows its step, and is cancelled', async () => {
    const sleep = `sleep ${transportKind === 'stdio' ? 4713 : 4714}`;  // busybox sh execs it: its own command line
    await call(client, 'write_file', { path: `${app}-slow/Dockerfile`, content: `FROM busybox:test\nRUN echo ${app} slow && ${sleep}\n` });
    const created = await tasker.request('tools/call', { name: 'build_image', arguments: { context: `${app}-slow`, no_cache: true } });
    assert.equal(created.resultType, 'task', JSON.stringify(created));
    assert.match(created.createdAt, /^\d{4}-\d\d-\d\dT/);
    const running = await waitForTask(tasker, created.taskId, (x) => x.statusMessage?.includes(sleep) || x.status !== 'working');
    assert.equal(running.status, 'working');
    for (let i = 0; i < 200 && !containersOf(sleep); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(containersOf(sleep), `the RUN step is running: ${JSON.stringify(await tasker.request('tasks/get', { taskId: created.taskId }))}`);
    const ack = await tasker.request('tasks/cancel', { taskId: created.taskId });
    assert.equal(ack.resultType, 'complete');
    const cancelled = await waitForTask(tasker, created.taskId, (x) => x.status !== 'working');
    assert.equal(cancelled.status, 'cancelled');
    for (let i = 0; i < 100 && containersOf(sleep); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(containersOf(sleep), '', 'no container is left running');
  });

  // Over stdio every connection is a server process of its own, and tasks live in the process that runs them.
  await t.test('a task\'s result is fetched from another connection', { skip: transportKind === 'stdio' && 'a stdio connection is its own server process' }, async () => {
    await call(client, 'write_file', { path: `${app}-task/Dockerfile`, content: `FROM busybox:test\nRUN echo ${app} task > /t\n` });
    const created = await tasker.request('tools/call', { name: 'build_image', arguments: { context: `${app}-task`, tags: [`${app}:task`] } });
    assert.equal(created.resultType, 'task');
    const other = await connectTasks({ extensions: { [TASKS]: {} } });
    try {
      const done = await waitForTask(other, created.taskId, (x) => x.status !== 'working');
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.equal(done.result.structuredContent.ok, true);
      assert.match(done.result.structuredContent.image.digest, /^sha256:/);
      await assert.rejects(other.request('tasks/get', { taskId: 'task-nonexistent' }), /unknown task/);
    } finally {
      await other.close();
    }
    const undeclared = await connectTasks({});
    try {
      await assert.rejects(undeclared.request('tasks/get', { taskId: created.taskId }),
        'a client that did not declare the tasks extension gets no task surface');
    } finally {
      await undeclared.close();
    }
  });
});
