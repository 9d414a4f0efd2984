// kiln mcp over stdio for the wire-level tests: raw JSON lines both ways, no SDK.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const { KILN, WORKSPACE } = process.env;

/// kiln mcp over stdio, read line by line; every line it writes must be one JSON-RPC message.
export class StdioServer {
  constructor(extraArgs = []) {
    this.proc = spawn(KILN, ['mcp', '--root', WORKSPACE, ...extraArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = [];
    this.waiters = [];
    this.stderr = '';
    let buf = '';
    this.proc.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.lines.push(JSON.parse(line));  // throws (fails the test) on anything but JSON on stdout
        this.waiters.splice(0).forEach((w) => w());
      }
    });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
  }
  write(text) { this.proc.stdin.write(text); }
  send(message) { this.write(JSON.stringify(message) + '\n'); }
  async next(timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      assert.ok(Date.now() < deadline, 'no answer from kiln mcp');
      await Promise.race([new Promise((r) => this.waiters.push(r)), new Promise((r) => setTimeout(r, 100))]);
    }
    return this.lines.shift();
  }
  async exited(timeoutMs = 10_000) {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const [code, signal] = await once(this.proc, 'exit');
    clearTimeout(timer);
    assert.equal(signal, null, `kiln mcp did not exit by itself within ${timeoutMs} ms`);
    return code;
  }
}
