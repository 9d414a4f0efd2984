// pull_image, push_image and build_image's registry options, driven by the official MCP TypeScript SDK client.
// Usage: node registry.mjs   with KILN, KILN_ROOT, WORKSPACE and REGISTRY (HOST:PORT of a plain registry) set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const { KILN, WORKSPACE, REGISTRY } = process.env;
assert.ok(KILN && WORKSPACE && REGISTRY, 'KILN, WORKSPACE and REGISTRY must be set');

test('registry tools over MCP', async () => {
  const client = new Client({ name: 'registry-agent', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: KILN, args: ['mcp', '--root', WORKSPACE], env: process.env,
                                                  stderr: 'inherit' }));
  try {
    const call = (name, args, options = {}) =>
      client.callTool({ name, arguments: args }, undefined, { timeout: 120_000, ...options });
    const { tools } = await client.listTools();
    for (const name of ['pull_image', 'push_image']) {
      const tool = tools.find((t) => t.name === name);
      assert.ok(tool, `${name} is listed`);
      assert.equal(tool.annotations.openWorldHint, true, `${name} reaches outside the machine`);
    }

    const pushed = await call('push_image', { ref: 'busybox:test', dest: `${REGISTRY}/mcp/base:1` });
    assert.equal(pushed.isError, undefined, JSON.stringify(pushed.content));
    assert.match(pushed.structuredContent.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(pushed.structuredContent.name, `${REGISTRY}/mcp/base:1`);

    const progress = [];
    const pulled = await call('pull_image', { ref: `${REGISTRY}/mcp/base:1` },
                              { onprogress: (p) => progress.push(p) });
    assert.equal(pulled.isError, undefined, JSON.stringify(pulled.content));
    assert.equal(pulled.structuredContent.digest, pushed.structuredContent.digest);

    // A build whose base comes from the registry, pushed with its cache.
    fs.mkdirSync(path.join(WORKSPACE, 'app'), { recursive: true });
    fs.writeFileSync(path.join(WORKSPACE, 'app', 'Dockerfile'),
                     `FROM ${REGISTRY}/mcp/base:1\nRUN echo from-mcp > /greeting\n`);
    const built = await call('build_image', {
      context: 'app', tags: [`${REGISTRY}/mcp/app:1`], push: true, pull: 'always',
      cache_to: [`type=registry,ref=${REGISTRY}/mcp/app:cache,mode=max`],
    });
    assert.equal(built.structuredContent.ok, true, JSON.stringify(built.structuredContent));
    assert.equal(built.structuredContent.image.pushed.length, 1);
    assert.equal(built.structuredContent.image.pushed[0].name, `${REGISTRY}/mcp/app:1`);
    assert.match(built.structuredContent.image.pushed[0].digest, /^sha256:[0-9a-f]{64}$/);
    const rebuilt = await call('build_image', {
      context: 'app', no_cache: false, cache_from: [`type=registry,ref=${REGISTRY}/mcp/app:cache`],
    });
    assert.equal(rebuilt.structuredContent.ok, true);
    assert.ok(rebuilt.structuredContent.steps.every((s) => s.cached), JSON.stringify(rebuilt.structuredContent.steps));

    // A cache directory outside the workspace is refused like any other path.
    const outside = await call('build_image', { context: 'app', cache_to: ['type=local,dest=/tmp/kiln-mcp-escape'] });
    assert.equal(outside.isError, true);
    assert.match(outside.content[0].text, /outside the allowed roots/);

    // Errors are tool errors naming the registry or the reference, and the session goes on.
    const missing = await call('pull_image', { ref: `${REGISTRY}/mcp/nothere:1` });
    assert.equal(missing.isError, true);
    assert.match(missing.content[0].text, /mcp\/nothere:1: not found in registry/);
    const bad = await call('push_image', { ref: 'no-such-image:1' });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0].text, /not found in the local store/);
  } finally {
    await client.close();
  }
});
