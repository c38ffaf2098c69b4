// An app's traffic while a deploy step migrates: 4 connections each running short
// transactions over CLIENT_URL until SIGTERM, so that a pooler hands the migration tool's
// statements whichever server connection is free, as it does in production. Writes the
// number of transactions it ran, and the first error, to stdout when stopped.
import pg from 'pg';
import { redact, describe, url } from './common.mjs';

const clients = [];
let stopping = false, done = 0, firstError = '';
for (let i = 0; i < 4; i++) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
}
process.on('SIGTERM', () => { stopping = true; });
console.log('started');
await Promise.all(clients.map(async (client) => {
  while (!stopping) {
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_sleep(0.002)');
      await client.query('COMMIT');
      done++;
    } catch (error) {
      firstError ||= describe(error);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}));
await Promise.all(clients.map((c) => c.end().catch(() => {})));
console.log(`transactions ${done}${firstError ? ` first error: ${redact(firstError)}` : ''}`);
