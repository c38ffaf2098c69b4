// What a pooled tool left behind on the pool's server connections. PgBouncer in transaction
// pooling hands a server connection to the next client as it is: whatever session state a
// client made outside a transaction (SET, set_config(..., false), a session advisory lock, a
// named prepared statement, LISTEN, a temporary table) stays on that connection, not with the
// client. Opens 8 clients over CLIENT_URL (the pooled URL) and holds a transaction open on
// each until all 8 have looked: the pool has at most 8 server connections
// (default_pool_size = 8), so every one of them is looked at. Prints one RESULT line: "works"
// when nothing was left, "leaves" with what was found (the SET settings' names, sorted, no values;
// locks, prepared statements, LISTEN, temporary tables), "fails" when it
// could not look.
import pg from 'pg';
import { run, report } from './common.mjs';

// Parameters PgBouncer itself sets on a server connection for each client (its tracked ones).
const tracked = new Set(['application_name', 'client_encoding', 'datestyle', 'timezone', 'standard_conforming_strings']);

await run(async () => {
  const clients = [];
  const found = new Set();
  const settings = new Set();
  try {
    for (let i = 0; i < 8; i++) {
      const client = new pg.Client({ connectionString: process.env.CLIENT_URL });
      await client.connect();
      clients.push(client);
    }
    await Promise.all(clients.map((c) => c.query('BEGIN')));
    const answers = await Promise.all(clients.map((c) => c.query(`
      SELECT (SELECT coalesce(array_agg(lower(name) ORDER BY name), '{}') FROM pg_settings WHERE source = 'session') AS settings,
             current_setting('search_path') AS search_path,
             (SELECT count(*)::int FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory') AS advisory,
             (SELECT count(*)::int FROM pg_prepared_statements) AS prepared,
             (SELECT count(*)::int FROM pg_listening_channels()) AS listening,
             (SELECT count(*)::int FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS temporary`)));
    for (const { rows: [row] } of answers) {
      for (const name of row.settings) {
        // An empty search_path (pg_dump's) is worth its value: the next client's tables are not found.
        if (!tracked.has(name)) settings.add(name === 'search_path' && row.search_path === '' ? "search_path (= '')" : name);
      }
      if (row.advisory) found.add('a session advisory lock');
      if (row.prepared) found.add('named prepared statements');
      if (row.listening) found.add('LISTEN');
      if (row.temporary) found.add('temporary tables');
    }
    await Promise.all(clients.map((c) => c.query('COMMIT')));
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
  if (settings.size) found.add(`SET ${[...settings].sort().join(', ')}`);
  if (found.size) {
    report('leaves', [...found].sort().join('; '));
    process.exit(0);
  }
}, 30);
