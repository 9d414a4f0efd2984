// An agent's session with kiln mcp, driven by the official MCP TypeScript SDK client over one transport:
// write a Dockerfile, build it (progress notifications), read the structured failure, fix it, rebuild with
// cached steps, inspect and run the image; then the hostile cases: path escapes, bad arguments, unknown
// methods, cancellation of a running build, concurrent calls and two clients at once.
//
// The two transports share one store, so what each builds is made distinct by the transport's name.
// Usage: node agent_session.mjs stdio|http   with KILN, KILN_ROOT, WORKSPACE set (and MCP_URL for http).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const transportKind = process.argv[2];
const { KILN, WORKSPACE, MCP_URL, KILN_MCP_TEST_TOKEN } = process.env;
assert.ok(KILN && WORKSPACE && KILN_MCP_TEST_TOKEN && (transportKind === 'stdio' || MCP_URL),
  'KILN, WORKSPACE, KILN_MCP_TEST_TOKEN (and MCP_URL) must be set');
// The server is configured with this secret (kiln mcp --secret id=api_token,env=KILN_MCP_TEST_TOKEN); its value
// must never come back.
const SERVER_ARGS = ['mcp', '--root', WORKSPACE, '--secret', 'id=api_token,env=KILN_MCP_TEST_TOKEN'];

async function connect(name) {
  const client = new Client({ name, version: '1.0.0' });
  const transport = transportKind === 'stdio'
    ? new StdioClientTransport({ command: KILN, args: SERVER_ARGS, env: process.env, stderr: 'inherit' })
    : new StreamableHTTPClientTransport(new URL(MCP_URL));
  await client.connect(transport);
  return client;
}

// Calls a tool; returns the result with structuredContent, failing on a JSON-RPC error.
async function call(client, name, args, options = {}) {
  return client.callTool({ name, arguments: args }, undefined, { timeout: 300_000, ...options });
}

function writeTree(dir, files) {
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), content);
  }
}

function processesMatching(text) {
  try {
    return execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).trim();
  } catch {
    return '';  // pgrep exits 1 when nothing matches
  }
}

const app = `app-${transportKind}`;

test(`kiln mcp over ${transportKind}`, async (t) => {
  const client = await connect('agent');
  t.after(() => client.close());

  await t.test('lists kiln tools with safety annotations', async () => {
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((x) => [x.name, x]));
    for (const name of ['build_image', 'list_images', 'inspect_image', 'image_history', 'list_image_files',
      'read_image_file', 'diff_images', 'run_container', 'lint_dockerfile', 'explain_cache',
      'read_file', 'write_file', 'list_directory', 'search_files', 'disk_usage', 'prune_cache']) {
      assert.ok(byName[name], `tool ${name} is listed`);
      assert.ok(byName[name].inputSchema?.type === 'object', `${name} has an input schema`);
    }
    assert.equal(byName.build_image.annotations.destructiveHint, true);
    assert.equal(byName.inspect_image.annotations.readOnlyHint, true);
    assert.equal(byName.prune_cache.annotations.destructiveHint, true);
    assert.equal(byName.push_image.annotations.openWorldHint, true, 'push_image reaches a registry');
    assert.equal(byName.pull_image.annotations.openWorldHint, true, 'pull_image reaches a registry');
    assert.ok(!byName.fixture_tool && !byName.test_simple_text, 'no conformance fixtures without the flag');
  });

  let failedBuildId;
  await t.test('writes a Dockerfile, builds it and reads the structured failure', async () => {
    const dockerfile = [
      'FROM busybox:test',
      'COPY message.txt /srv/message.txt',
      'RUN cp /srv/message.txt /srv/copy.txt',
      `RUN echo "about to fail over ${transportKind}" && cat /srv/missing-file`,
      'CMD ["cat", "/srv/copy.txt"]',
      '',
    ].join('\n');
    let r = await call(client, 'write_file', { path: `${app}/Dockerfile`, content: dockerfile });
    assert.ok(!r.isError, JSON.stringify(r));
    r = await call(client, 'write_file', { path: `${app}/message.txt`, content: `hello from an agent over ${transportKind}\n` });
    assert.ok(!r.isError);

    const progress = [];
    r = await call(client, 'build_image', { context: app, tags: [`${app}:1`] }, { onprogress: (p) => progress.push(p) });
    assert.equal(r.isError, true, 'a failing RUN is a tool error');
    const s = r.structuredContent;
    assert.equal(s.ok, false);
    assert.match(s.error.step, /cat \/srv\/missing-file/);
    assert.equal(s.error.exit_code, 1);
    assert.match(s.error.log_tail, /about to fail/);
    assert.match(s.error.log_tail, /missing-file/);
    assert.ok(progress.length >= 3, `progress notifications arrived (${progress.length})`);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].progress > progress[i - 1].progress, 'progress increases');
    assert.ok(progress.every((p) => p.total === 8), 'the total is known: 4 steps, two units each');
    failedBuildId = s.build_id;
  });

  await t.test('the failed step\'s file system can be looked at and run in', async () => {
    const listing = await call(client, 'list_image_files', { failed_build: failedBuildId, path: '/srv' });
    assert.ok(!listing.isError, JSON.stringify(listing.content));
    assert.deepEqual(listing.structuredContent.entries.map((e) => e.name).sort(), ['copy.txt', 'message.txt']);
    const read = await call(client, 'read_image_file', { failed_build: 'last', path: '/srv/copy.txt' });
    assert.equal(read.structuredContent.content, `hello from an agent over ${transportKind}\n`);
    const run = await call(client, 'run_in_failed_step', { build_id: failedBuildId, command: ['sh', '-c', 'ls /srv/missing-file; pwd'] });
    assert.equal(run.structuredContent.exit_code, 0, 'ls of a missing file fails but pwd, last, succeeds');
    assert.match(run.structuredContent.stderr, /missing-file/);
    const both = await call(client, 'list_image_files', { ref: 'busybox:test', failed_build: 'last' });
    assert.equal(both.isError, true, 'ref and failed_build are one or the other');
  });

  await t.test('the failure is readable as a resource and a debugging prompt', async () => {
    const log = await client.readResource({ uri: `kiln://builds/${failedBuildId}/log` });
    assert.match(log.contents[0].text, /about to fail/);
    const prompt = await client.getPrompt({ name: 'debug_build_failure', arguments: { build_id: failedBuildId } });
    const text = prompt.messages.map((m) => m.content.text ?? '').join('\n');
    assert.match(text, /missing-file/, 'the prompt embeds the real log');
    assert.match(text, /run_in_failed_step/, 'the prompt points at the kept file system');
  });

  let digest;
  await t.test('fixes the Dockerfile and rebuilds with cached steps', async () => {
    const read = await call(client, 'read_file', { path: `${app}/Dockerfile` });
    const fixed = read.structuredContent.content.replace('cat /srv/missing-file', 'test -f /srv/copy.txt');
    await call(client, 'write_file', { path: `${app}/Dockerfile`, content: fixed });
    const lint = await call(client, 'lint_dockerfile', { dockerfile: `${app}/Dockerfile` });
    assert.ok(!lint.isError, JSON.stringify(lint.content));
    assert.equal(lint.structuredContent.call, 'check');
    assert.ok(Array.isArray(lint.structuredContent.findings));
    const targets = await call(client, 'lint_dockerfile', { dockerfile: `${app}/Dockerfile`, call: 'targets' });
    assert.ok(!targets.isError, JSON.stringify(targets.content));
    assert.ok(targets.structuredContent.result.targets.some((x) => x.default), 'the last stage is the default target');
    const outline = await call(client, 'lint_dockerfile', { dockerfile: `${app}/Dockerfile`, call: 'outline' });
    assert.ok(!outline.isError, JSON.stringify(outline.content));
    assert.equal(typeof outline.structuredContent.result, 'object');
    const progress = [];
    const r = await call(client, 'build_image', { context: app, tags: [`${app}:1`] }, { onprogress: (p) => progress.push(p) });
    assert.ok(!r.isError, JSON.stringify(r.structuredContent ?? r.content));
    const s = r.structuredContent;
    assert.equal(s.ok, true);
    assert.match(s.image.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(s.image.tags.map((x) => x.replace('docker.io/library/', '')), [`${app}:1`]);
    const byName = (re) => s.steps.find((x) => re.test(x.name));
    assert.equal(byName(/COPY message.txt/).cached, true, 'COPY came from the cache');
    assert.equal(byName(/RUN cp/).cached, true, 'the first RUN came from the cache');
    assert.equal(byName(/RUN echo/).cached, false, 'the fixed RUN ran');
    assert.ok(progress.some((p) => /CACHED/.test(p.message ?? '')), 'progress says CACHED');
    assert.equal(progress.at(-1).progress, progress.at(-1).total, 'progress ends at its total');
    digest = s.image.digest;

    const explain = await call(client, 'explain_cache', { build_id: s.build_id });
    assert.ok(explain.structuredContent.steps.some((x) => !x.cached && x.reason), 'explain_cache gives reasons');

    // A changed context file: explain_cache names it, and the next step's miss names the step before.
    await call(client, 'write_file', { path: `${app}/message.txt`, content: `changed by an agent over ${transportKind}\n` });
    const rebuilt = await call(client, 'build_image', { context: app, tags: [`${app}:changed`] });
    assert.ok(!rebuilt.isError, JSON.stringify(rebuilt.structuredContent ?? rebuilt.content));
    const why = (await call(client, 'explain_cache', { build_id: rebuilt.structuredContent.build_id })).structuredContent;
    const copy = why.steps.find((x) => /COPY message.txt/.test(x.name));
    assert.deepEqual(copy.changed, ['file message.txt'], JSON.stringify(copy));
    assert.match(why.steps.find((x) => /RUN cp/.test(x.name)).changed[0], /^input step #\d+$/);
    await call(client, 'write_file', { path: `${app}/message.txt`, content: `hello from an agent over ${transportKind}\n` });
  });

  await t.test('a running build\'s log is a resource one can subscribe to', async () => {
    writeTree(path.join(WORKSPACE, `${app}-log`), {
      Dockerfile: `FROM busybox:test\nRUN for i in 1 2 3 4 5 6; do echo ${transportKind} line $i; sleep 0.2; done\n`,
    });
    const updates = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { updates.push(n.params.uri); });
    const before = new Set((await client.listResources()).resources.map((r) => r.uri));
    const pending = call(client, 'build_image', { context: `${app}-log`, no_cache: true });
    let uri;
    for (let i = 0; i < 200 && !uri; i++) {
      uri = (await client.listResources()).resources.map((r) => r.uri).find((u) => /^kiln:\/\/builds\//.test(u) && !before.has(u));
      if (!uri) await new Promise((res) => setTimeout(res, 20));
    }
    assert.ok(uri, 'the running build\'s log is listed');
    await client.subscribeResource({ uri });
    const result = await pending;
    assert.ok(!result.isError);
    assert.ok(updates.includes(uri), 'updates arrived while the build ran');
    const log = await client.readResource({ uri });
    assert.match(log.contents[0].text, new RegExp(`${transportKind} line 6`));
    await client.unsubscribeResource({ uri });
  });

  await t.test('inspects, lists and runs the image', async () => {
    const images = await call(client, 'list_images', { filter: app });
    assert.ok(images.structuredContent.images.some((i) => i.digest === digest));
    const inspect = await call(client, 'inspect_image', { ref: `${app}:1` });
    assert.deepEqual(inspect.structuredContent.config.Cmd, ['cat', '/srv/copy.txt']);
    const file = await call(client, 'read_image_file', { ref: `${app}:1`, path: '/srv/copy.txt' });
    assert.equal(file.structuredContent.content, `hello from an agent over ${transportKind}\n`);
    const run = await call(client, 'run_container', { ref: `${app}:1` });
    assert.ok(!run.isError, JSON.stringify(run.structuredContent));
    assert.equal(run.structuredContent.exit_code, 0);
    assert.equal(run.structuredContent.stdout, `hello from an agent over ${transportKind}\n`);
    const net = await call(client, 'run_container', { ref: `${app}:1`, command: ['sh', '-c', 'ls /sys/class/net'] });
    assert.equal(net.structuredContent.stdout.trim(), 'lo', 'no network by default');
    const long = await call(client, 'run_container', { ref: `${app}:1`, command: ['sh', '-c', 'yes kiln | head -c 300000'] });
    assert.equal(long.structuredContent.truncated, true, 'run output is bounded');
    assert.ok(long.structuredContent.stdout.length < 300000);
  });

  await t.test('attaches an SBOM and provenance when asked', async () => {
    const r = await call(client, 'build_image', { context: app, tags: [`${app}:attested`], sbom: true, provenance: 'max' });
    assert.ok(!r.isError, JSON.stringify(r.structuredContent ?? r.content));
    const image = (await call(client, 'inspect_image', { ref: `${app}:attested` })).structuredContent;
    assert.deepEqual(image.attestations.map((x) => x.predicate_type).sort(),
      ['https://slsa.dev/provenance/v0.2', 'https://spdx.dev/Document'], JSON.stringify(image));
    assert.equal(image.attestations.find((x) => x.builder_id).builder_id, 'https://kiln.dev/kiln');
    assert.deepEqual((await call(client, 'inspect_image', { ref: `${app}:1` })).structuredContent.attestations, []);
    const bad = await call(client, 'build_image', { context: app, provenance: 'everything' });
    assert.ok(bad.isError, 'a provenance mode other than min or max is refused');
  });

  await t.test('refuses paths outside the workspace', async () => {
    fs.mkdirSync(path.join(WORKSPACE, 'links'), { recursive: true });
    try { fs.symlinkSync('/etc', path.join(WORKSPACE, 'links', 'etc')); } catch { /* made by the other transport's run */ }
    const attempts = [
      ['read_file', { path: '../../../etc/passwd' }],
      ['read_file', { path: '/etc/passwd' }],
      ['read_file', { path: 'links/etc/passwd' }],
      ['write_file', { path: '../escaped.txt', content: 'x' }],
      ['write_file', { path: 'links/etc/kiln-escape', content: 'x' }],
      ['list_directory', { path: '/' }],
      ['search_files', { path: 'links/etc', pattern: 'passwd' }],
      ['build_image', { context: '/etc' }],
    ];
    for (const [tool, args] of attempts) {
      const r = await call(client, tool, args);
      assert.equal(r.isError, true, `${tool} ${JSON.stringify(args)} is refused`);
      assert.match(r.content[0].text, /outside the allowed roots|access denied/, `${tool}: ${r.content[0].text}`);
    }
    assert.ok(!fs.existsSync('/etc/kiln-escape') && !fs.existsSync(path.join(WORKSPACE, '..', 'escaped.txt')));
  });

  await t.test('validates arguments and rejects unknown methods and tools', async () => {
    let r = await call(client, 'build_image', { tags: ['x'] });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /invalid arguments.*context/);
    r = await call(client, 'run_container', { ref: `${app}:1`, timeout_s: 'soon' });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /timeout_s/);
    r = await call(client, 'read_image_file', { ref: `${app}:1`, path: '/srv/copy.txt', surprise: 1 });
    assert.equal(r.isError, true, 'unknown arguments are refused');
    await assert.rejects(call(client, 'no_such_tool', {}), (e) => e.code === -32602);
    const { z } = await import('zod');
    await assert.rejects(client.request({ method: 'kiln/unknown', params: {} }, z.object({}).passthrough()),
      (e) => e.code === -32601);
  });

  await t.test('a cancelled build stops its container', async () => {
    writeTree(path.join(WORKSPACE, `${app}-slow`), {
      Dockerfile: `FROM busybox:test\nRUN echo ${transportKind} && sleep 4711 && echo never\n`,
    });
    const controller = new AbortController();
    let started = false;
    const pending = call(client, 'build_image', { context: `${app}-slow`, no_cache: true }, {
      signal: controller.signal,
      onprogress: () => { started = true; },
    });
    for (let i = 0; i < 200 && !processesMatching('sleep 4711'); i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(started, 'progress arrived before cancelling');
    assert.ok(processesMatching('sleep 4711'), 'the RUN step is running');
    controller.abort('the agent changed its mind');
    await assert.rejects(pending);
    for (let i = 0; i < 200 && processesMatching('sleep 4711'); i++) await new Promise((res) => setTimeout(res, 50));
    assert.equal(processesMatching('sleep 4711'), '', 'the container was stopped');
    const ping = await client.ping();
    assert.ok(ping, 'the server still answers');
  });

  await t.test('stopping the server cancels its builds and leaves nothing running or mounted', { skip: transportKind !== 'stdio' }, async () => {
    writeTree(path.join(WORKSPACE, 'stop-me'), { Dockerfile: 'FROM busybox:test\nRUN sleep 4712\n' });
    const transport = new StdioClientTransport({ command: KILN, args: SERVER_ARGS, env: process.env, stderr: 'pipe' });
    const doomed = new Client({ name: 'doomed', version: '1.0.0' });
    await doomed.connect(transport);
    const pending = call(doomed, 'build_image', { context: 'stop-me', no_cache: true }).catch((e) => e);
    for (let i = 0; i < 200 && !processesMatching('sleep 4712'); i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(processesMatching('sleep 4712'), 'the build is running');
    const pid = transport.pid;
    const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
    process.kill(pid, 'SIGTERM');
    await pending;
    for (let i = 0; i < 400 && alive(); i++) await new Promise((res) => setTimeout(res, 25));
    assert.ok(!alive(), 'the server stopped by itself');
    assert.equal(processesMatching('sleep 4712'), '', 'the container is gone');
    const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(process.env.KILN_ROOT));
    assert.deepEqual(mounts, [], 'no mount is left under the data root');
  });

  await t.test('builds with a server-side secret whose value never comes back', async () => {
    const { tools } = await client.listTools();
    assert.ok(!JSON.stringify(tools).includes(KILN_MCP_TEST_TOKEN));
    const build = tools.find((x) => x.name === 'build_image');
    assert.deepEqual(build.inputSchema.properties.secrets.items.enum, ['api_token']);
    writeTree(path.join(WORKSPACE, `${app}-secret`), {
      Dockerfile: 'FROM busybox:test\n' +
        `RUN --mount=type=secret,id=api_token,env=TOKEN test -n "$TOKEN" && cat /run/secrets/api_token 2>/dev/null; echo "${transportKind} token is $TOKEN" && exit 3\n`,
    });
    const r = await call(client, 'build_image', { context: `${app}-secret`, secrets: ['api_token'] });
    assert.equal(r.isError, true);
    assert.match(r.structuredContent.error.log_tail, new RegExp(`${transportKind} token is \\*\\*\\*\\*`));
    assert.equal(r.structuredContent.error.exit_code, 3);
    assert.ok(!JSON.stringify(r).includes(KILN_MCP_TEST_TOKEN), 'the value is not in the reply');
    const log = await client.readResource({ uri: `kiln://builds/${r.structuredContent.build_id}/log` });
    assert.ok(!JSON.stringify(log).includes(KILN_MCP_TEST_TOKEN), 'the value is not in the build log');
    const prompt = await client.getPrompt({ name: 'debug_build_failure', arguments: { build_id: r.structuredContent.build_id } });
    assert.ok(!JSON.stringify(prompt).includes(KILN_MCP_TEST_TOKEN), 'the value is not in the prompt');
    const unknown = await call(client, 'build_image', { context: `${app}-secret`, secrets: ['not_configured'] });
    assert.equal(unknown.isError, true);
    assert.match(unknown.content[0].text, /must be one of/);
  });

  await t.test('--read-only serves only the tools that change nothing', async () => {
    const ro = new Client({ name: 'read-only', version: '1.0.0' });
    await ro.connect(new StdioClientTransport({ command: KILN, args: [...SERVER_ARGS, '--read-only'], env: process.env, stderr: 'inherit' }));
    try {
      const { tools } = await ro.listTools();
      const names = tools.map((x) => x.name);
      for (const name of ['build_image', 'run_container', 'write_file', 'prune_cache']) assert.ok(!names.includes(name), name);
      for (const name of ['inspect_image', 'read_file', 'disk_usage']) assert.ok(names.includes(name), name);
      assert.ok(tools.every((x) => x.annotations.readOnlyHint === true));
      await assert.rejects(call(ro, 'write_file', { path: 'x', content: 'y' }), (e) => e.code === -32602);
    } finally {
      await ro.close();
    }
  });

  await t.test('reports disk usage and prunes the build cache', async () => {
    let du = await call(client, 'disk_usage', { records: 2 });
    assert.ok(du.structuredContent.cache_records > 0);
    assert.ok(du.structuredContent.records.length <= 2);
    const recent = await call(client, 'prune_cache', { keep_duration_s: 3600 });
    assert.equal(recent.structuredContent.cache_records, 0, 'recently used cache stays');
    const all = await call(client, 'prune_cache', {});
    assert.ok(!all.isError, JSON.stringify(all.content));
    assert.ok(all.structuredContent.cache_records > 0);
    du = await call(client, 'disk_usage', {});
    assert.equal(du.structuredContent.cache_records, 0);
    const run = await call(client, 'run_container', { ref: `${app}:1` });
    assert.equal(run.structuredContent.stdout, `hello from an agent over ${transportKind}\n`, 'images survive a prune');
  });

  await t.test('runs concurrent calls from one client and two clients at once', async () => {
    const other = await connect('second-agent');
    try {
      for (const who of ['one', 'two']) {
        writeTree(path.join(WORKSPACE, `${app}-${who}`), {
          Dockerfile: `FROM busybox:test\nRUN echo ${who}-${Date.now()} > /who && sleep 0.3\nCMD ["cat", "/who"]\n`,
        });
      }
      const [a, b, list, files] = await Promise.all([
        call(client, 'build_image', { context: `${app}-one`, tags: [`${app}-one:1`] }),
        call(other, 'build_image', { context: `${app}-two`, tags: [`${app}-two:1`] }),
        call(client, 'list_images', {}),
        call(other, 'list_directory', { path: '.' }),
      ]);
      assert.ok(!a.isError && !b.isError, JSON.stringify([a.structuredContent, b.structuredContent]));
      assert.ok(!list.isError && !files.isError);
      const [ra, rb] = await Promise.all([
        call(other, 'run_container', { ref: `${app}-one:1` }),
        call(client, 'run_container', { ref: `${app}-two:1` }),
      ]);
      assert.match(ra.structuredContent.stdout, /^one-/);
      assert.match(rb.structuredContent.stdout, /^two-/);
    } finally {
      await other.close();
    }
  });
});
