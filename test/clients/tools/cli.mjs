// cli(command, args, cwd): runs a tool's own command line as a deploy step does, with
// CLIENT_URL in its environment; resolves to its output, throws with its error line (which
// the caller's report redacts) when it exits non-zero or is killed.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..');  // the suite's work directory: package.json, node_modules
export const bin = (name) => path.join(root, 'node_modules', '.bin', name);

export function cli(command, args, { cwd = root, env = {}, seconds = 60 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), seconds * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(output);
      // The tool's own error line (not its stack), else its last line.
      const lines = output.trim().split('\n').filter((l) => /\S/.test(l) && !/^\s+at /.test(l));
      const tail = lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? '';
      reject(new Error(`${path.basename(command)} ${args[0] ?? ''} ${signal ? `killed after ${seconds} s` : `exited ${code}`}: ${tail}`));
    });
  });
}
