// Median latency of a warm provisionProjectDatabase through the package against a raw pg
// query of the same SELECT on one connection, over 1,000 calls each in this process.
// Needs BENCH_ADMIN_URL (a role with EXECUTE on claudable_provision) and a project
// BENCH_PROJECT / BENCH_OWNER that exists. Run by `make bench`; prints one line.
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { provisionProjectDatabase, closeClaudablePools } from '../dist/index.mjs';

const adminUrl = process.env.BENCH_ADMIN_URL;
const project = process.env.BENCH_PROJECT ?? 'warm-1';
const owner = process.env.BENCH_OWNER ?? 'owner';
const calls = Number(process.env.BENCH_CALLS ?? 1000);

function median(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(fn) {
  for (let i = 0; i < 50; i++) await fn();  // warm-up, not counted
  const samples = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

const raw = new pg.Client({ connectionString: adminUrl });
await raw.connect();
const ours = await timed(() => provisionProjectDatabase(project, owner, { adminUrl }));
const reference = await timed(() => raw.query('SELECT * FROM claudable_provision($1, $2)', [project, owner]));
await raw.end();
await closeClaudablePools();
console.log(`# 7. node warm provisionProjectDatabase vs raw pg query of the same SELECT (ms, median of ${calls}): ` +
            `ours ${ours.toFixed(3)} ms, reference ${reference.toFixed(3)} ms, ratio ${(ours / reference).toFixed(3)}`);
