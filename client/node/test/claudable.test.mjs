// claudable-client against a real throwaway cluster (test/node/node_suite.sh starts it):
// CLAUDABLE_TEST_ADMIN_URL (the deploy service's role, made by README's grant block, with its
// password, over TCP), CLAUDABLE_TEST_SUPERUSER (host,port of a superuser socket) and
// CLAUDABLE_TEST_DATABASE (the metadata database), CLAUDABLE_TEST_SERVER_STOP/_START.
// The superuser only sets up what a DBA would and looks at what a call changed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { inspect } from 'node:util';
import { mkdtempSync, writeFileSync, readFileSync, statSync, symlinkSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import pg from 'pg';
import {
  provisionProjectDatabase, deprovisionProjectDatabase, rotateProjectDatabasePassword, listProjectDatabases,
  checkProjectDatabases, closeClaudablePools, httpStatusFor, writeEnvFile, envForApp, ClaudableError,
  InvalidInputError, PermissionDeniedError, ConflictError, LimitError, UnavailableError, OutcomeUnknownError,
  InternalError, MASK, snapshotProjectDatabase, listProjectSnapshots, restoreProjectDatabase, dropProjectSnapshot,
  branchProjectDatabase, ProjectDatabaseInfo,
} from '../dist/index.mjs';

const adminUrl = process.env.CLAUDABLE_TEST_ADMIN_URL;
const adminPassword = /:\/\/[^:]+:([^@]+)@/.exec(adminUrl ?? '')?.[1];
const [superHost, superPort] = (process.env.CLAUDABLE_TEST_SUPERUSER ?? ',').split(',');
const superuser = new pg.Pool({ host: superHost, port: Number(superPort), user: 'postgres', database: process.env.CLAUDABLE_TEST_DATABASE });
superuser.on('error', () => {});  // its idle connections end with the server restart below
const scratch = [];  // directories the env file tests made, removed at the end
function scratchDirectory() {
  const dir = mkdtempSync(path.join(tmpdir(), 'claudable-node-'));
  scratch.push(dir);
  return dir;
}
after(async () => {
  await closeClaudablePools();
  await superuser.end();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function rejectsWith(promise, Kind, sqlstate, status) {
  const error = await promise.then(() => null, (e) => e);
  assert.ok(error instanceof Kind, `expected ${Kind.name}, got ${error}`);
  assert.ok(error instanceof ClaudableError);
  if (sqlstate) assert.equal(error.sqlstate, sqlstate);
  assert.equal(httpStatusFor(error), status);
  assert.ok(!error.message.includes(adminPassword), 'no error message holds the admin password');
  return error;
}

test('the environment names a cluster', () => {
  assert.ok(adminUrl && adminPassword, 'CLAUDABLE_TEST_ADMIN_URL is not set: run through make test');
});

test('provisionProjectDatabase creates the project once and returns the same row after', async () => {
  const first = await provisionProjectDatabase('node-app', 'team-node', { adminUrl });
  const again = await provisionProjectDatabase('node-app', 'team-node', { adminUrl });
  assert.equal(first.created, true);
  assert.equal(again.created, false);
  assert.equal(again.password, first.password);
  assert.equal(first.databaseName, 'app_db_node_app');
  assert.equal(first.username, 'app_u_node_app');
  assert.ok(first.createdAt instanceof Date);
  assert.match(first.databaseUrl, /^postgresql:\/\/app_u_node_app:[^@]+@/);
});

test('the DATABASE_URL logs in as the project role', async () => {
  const info = await provisionProjectDatabase('node-app', 'team-node', { adminUrl });
  const client = new pg.Client({ connectionString: info.databaseUrl });
  await client.connect();
  const { rows } = await client.query('SELECT current_user AS who');
  await client.end();
  assert.equal(rows[0].who, 'app_u_node_app');
});

test('the password and the URL are masked in console.log, util.inspect, JSON.stringify and String()', async () => {
  const info = await provisionProjectDatabase('node-app', 'team-node', { adminUrl });
  for (const shown of [inspect(info), JSON.stringify(info), String(info), `${info}`]) {
    assert.ok(!shown.includes(info.password), `the password is visible in: ${shown}`);
    assert.ok(shown.includes(MASK), `the mask is missing in: ${shown}`);
  }
  assert.match(JSON.parse(JSON.stringify(info)).databaseUrl, /^postgresql:\/\/app_u_node_app:\*{8}@/);
  assert.equal(info.password.length, 32, 'the real password is a property away');
});

test('pooledDatabaseUrl is null while the server sets no claudable.pooler_host', async () => {
  const info = await provisionProjectDatabase('node-app', 'team-node', { adminUrl });
  assert.equal(info.pooledDatabaseUrl, null);
  assert.equal(JSON.parse(JSON.stringify(info)).pooledDatabaseUrl, null);
});

test('deprovisionProjectDatabase removes the project once', async () => {
  await provisionProjectDatabase('node-gone', 'team-node', { adminUrl });
  assert.equal(await deprovisionProjectDatabase('node-gone', 'team-node', { adminUrl }), true);
  assert.equal(await deprovisionProjectDatabase('node-gone', 'team-node', { adminUrl }), false);
});

test('rotateProjectDatabasePassword gives a new password that provisioning then returns', async () => {
  const before = await provisionProjectDatabase('node-rotate', 'team-node', { adminUrl });
  const rotated = await rotateProjectDatabasePassword('node-rotate', 'team-node', { adminUrl });
  assert.notEqual(rotated.password, before.password);
  assert.equal((await provisionProjectDatabase('node-rotate', 'team-node', { adminUrl })).password, rotated.password);
});

test('listProjectDatabases and checkProjectDatabases read the monitoring view and the report', async () => {
  const rows = await listProjectDatabases({ adminUrl });
  assert.ok(rows.some((r) => r.projectId === 'node-app' && r.status === 'ready'));
  assert.ok(!JSON.stringify(rows).includes('password'));
  assert.ok(Array.isArray(await checkProjectDatabases({ adminUrl })));
});

test('a pool passed in is used instead of an admin URL', async () => {
  const pool = new pg.Pool({ connectionString: adminUrl });
  const info = await provisionProjectDatabase('node-app', 'team-node', { pool });
  await pool.end();
  assert.equal(info.databaseName, 'app_db_node_app');
});

test('invalid input is InvalidInputError (400)', async () => {
  await rejectsWith(provisionProjectDatabase('bad id!', 'team-node', { adminUrl }), InvalidInputError, '22023', 400);
});

test('another owner is PermissionDeniedError (403), and the refusal changes nothing', async () => {
  const before = await provisionProjectDatabase('node-app', 'team-node', { adminUrl });
  await rejectsWith(provisionProjectDatabase('node-app', 'intruder', { adminUrl }), PermissionDeniedError, '42501', 403);
  const after = await provisionProjectDatabase('node-app', 'team-node', { adminUrl });
  assert.ok(after.password === before.password && after.ownerId === 'team-node', 'same owner, same password');
});

test('a name collision is ConflictError (409)', async () => {
  await provisionProjectDatabase('node-shop', 'team-node', { adminUrl });
  await rejectsWith(provisionProjectDatabase('Node-Shop', 'team-node', { adminUrl }), ConflictError, '42710', 409);
});

test('a project limit is LimitError (429), and nothing is created', async () => {
  // The DBA sets the limit for the metadata database; the deploy role's next session has it.
  const database = process.env.CLAUDABLE_TEST_DATABASE;
  await superuser.query(`ALTER DATABASE ${database} SET claudable.max_projects_per_owner = 0`);
  await closeClaudablePools();
  try {
    await rejectsWith(provisionProjectDatabase('node-over', 'team-limited', { adminUrl }), LimitError, '53400', 429);
  } finally {
    await superuser.query(`ALTER DATABASE ${database} RESET claudable.max_projects_per_owner`);
    await closeClaudablePools();
  }
  const { rows } = await superuser.query(
    "SELECT (SELECT count(*) FROM claudable.projects WHERE project_id = 'node-over')" +
    "     + (SELECT count(*) FROM pg_roles WHERE rolname = 'app_u_node_over')" +
    "     + (SELECT count(*) FROM pg_database WHERE datname = 'app_db_node_over') AS n");
  assert.equal(Number(rows[0].n), 0, 'no row, role or database for the refused project');
});

test('an unreachable server is UnavailableError (503) after retries', async () => {
  const closed = adminUrl.replace(/:(\d+)\//, ':1/');
  let retries = 0;
  const error = await rejectsWith(
    provisionProjectDatabase('node-app', 'team-node', { adminUrl: closed, retryBudgetMs: 800, onRetry: () => retries++ }),
    UnavailableError, '08001', 503);
  assert.ok(retries > 0, 'it retried');
  assert.ok(!error.message.includes(closed));
});

test('a wrong admin password is refused at once (28P01, 500), never retried', async () => {
  const wrong = adminUrl.replace(`:${adminPassword}@`, ':not-the-password@');
  let retries = 0;
  const error = await rejectsWith(
    provisionProjectDatabase('node-wrong-pw', 'team-node', { adminUrl: wrong, retryBudgetMs: 30000, onRetry: () => retries++ }),
    InternalError, '28P01', 500);
  assert.equal(retries, 0, 'a refused login is not a transient fault');
  assert.ok(!error.message.includes('not-the-password'));
});

test('a malformed admin URL is refused without echoing it', async () => {
  const error = await rejectsWith(provisionProjectDatabase('node-app', 'team-node',
                                                           { adminUrl: 'postgresql://admin:s3cr%zzet@127.0.0.1:1/db' }),
                                  InvalidInputError, '22023', 400);
  assert.ok(!error.message.includes('s3cr'));
});

test('a rotation whose connection is lost is OutcomeUnknownError (503) and is not re-sent', async () => {
  await provisionProjectDatabase('node-lost', 'team-node', { adminUrl });
  const holder = await superuser.connect();
  await holder.query('BEGIN');
  await holder.query("SELECT 1 FROM claudable.projects WHERE project_id = 'node-lost' FOR UPDATE");
  let retries = 0;
  const pending = rotateProjectDatabasePassword('node-lost', 'team-node', { adminUrl, onRetry: () => retries++ });
  pending.catch(() => {});  // it may reject while the loop below still runs; it is examined after
  for (let i = 0; i < 100; i++) {
    const { rows } = await superuser.query(
      "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'claudable-client (node)'" +
      " AND query LIKE '%claudable_rotate_password%' AND state = 'active'");
    if (rows.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await rejectsWith(pending, OutcomeUnknownError, '08006', 503);
  await holder.query('ROLLBACK');
  holder.release();
  assert.equal(retries, 0, 'a rotation is never re-sent');
  // The worker of the one rotation that was sent finishes alone; the server saw one call.
  for (let i = 0; i < 100; i++) {
    const { rows } = await superuser.query(
      "SELECT count(*) AS n FROM claudable.events WHERE project_id = 'node-lost' AND action = 'rotate'");
    if (Number(rows[0].n) >= 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const { rows } = await superuser.query(
    "SELECT count(*) AS n FROM claudable.events WHERE project_id = 'node-lost' AND action = 'rotate'");
  assert.equal(Number(rows[0].n), 1, 'the server recorded exactly one rotation');
});

test('anything else maps to 500', () => {
  assert.equal(httpStatusFor(new Error('boom')), 500);
  assert.equal(httpStatusFor(new InternalError('XX000', 'x')), 500);
});

test('retries survive a server restart', async () => {
  execSync(process.env.CLAUDABLE_TEST_SERVER_STOP);
  const restart = new Promise((resolve) => setTimeout(() => { execSync(process.env.CLAUDABLE_TEST_SERVER_START); resolve(); }, 2000));
  let retries = 0;
  const info = await provisionProjectDatabase('node-restart', 'team-node',
                                              { adminUrl, retryBudgetMs: 30000, onRetry: () => retries++ });
  await restart;
  assert.equal(info.databaseName, 'app_db_node_restart');
  assert.ok(retries > 0, 'the server really was down');
});

test('a deprovision on a kept pool after a server restart returns its own result, not outcome unknown', async () => {
  await provisionProjectDatabase('node-kept', 'team-node', { adminUrl });
  const idle = await superuser.query("SELECT count(*) AS n FROM pg_stat_activity" +
                                     " WHERE application_name = 'claudable-client (node)' AND state = 'idle'");
  assert.ok(Number(idle.rows[0].n) >= 1, 'the pool keeps its connection, idle between calls');
  const { rows: [before] } = await superuser.query('SELECT pg_postmaster_start_time() AS at');
  // A fast stop ends that idle session with FATAL 57P01; the server is up again before the call.
  execSync(process.env.CLAUDABLE_TEST_SERVER_STOP);
  execSync(process.env.CLAUDABLE_TEST_SERVER_START);
  let retries = 0;
  const removed = await deprovisionProjectDatabase('node-kept', 'team-node', { adminUrl, onRetry: () => retries++ });
  assert.equal(removed, true);
  assert.equal(retries, 0, 'nothing failed that needed a retry: the ended session was seen before sending');
  // The superuser's own idle connections ended too: its pool drops them as it reads their end.
  const { rows: [after] } = await superuser.query('SELECT pg_postmaster_start_time() AS at')
    .catch(() => superuser.query('SELECT pg_postmaster_start_time() AS at'));
  assert.notEqual(after.at.getTime(), before.at.getTime(), 'the server really restarted');
  const { rows } = await superuser.query("SELECT count(*) AS n FROM claudable.events" +
                                         " WHERE project_id = 'node-kept' AND action = 'deprovision' AND outcome = 'succeeded'");
  assert.equal(Number(rows[0].n), 1, 'the server saw exactly one deprovisioning');
});

test('32 concurrent provisions of one project from one process give one password', async () => {
  const calls = await Promise.all(Array.from({ length: 32 },
    () => provisionProjectDatabase('node-race', 'team-node', { adminUrl, retryBudgetMs: 30000 })));
  assert.equal(new Set(calls.map((c) => c.password)).size, 1);
  assert.equal(calls.filter((c) => c.created).length, 1);
});

test('writeEnvFile writes DATABASE_URL and DIRECT_URL, mode 0600, and merges into the other lines', async () => {
  const dir = scratchDirectory();
  mkdirSync(path.join(dir, 'shop'));
  writeFileSync(path.join(dir, 'shop/.env.production'), 'NODE_ENV=production\r\nDATABASE_URL=stale\r\n');
  await writeEnvFile(dir, 'shop', 'postgresql://new');
  assert.equal(readFileSync(path.join(dir, 'shop/.env.production'), 'utf8'),
               'NODE_ENV=production\r\nDATABASE_URL=postgresql://new\r\nDIRECT_URL=postgresql://new\r\n');
  assert.equal(statSync(path.join(dir, 'shop/.env.production')).mode & 0o777, 0o600);
  await writeEnvFile(dir, 'fresh', { databaseUrl: 'postgresql://a', pooledDatabaseUrl: null });
  assert.equal(readFileSync(path.join(dir, 'fresh/.env.production'), 'utf8'), 'DATABASE_URL=postgresql://a\nDIRECT_URL=postgresql://a\n');
});

test('the env bundle from a provisioned row: with a pooler (claudable.pooler_host), DATABASE_URL is the pooled URL and DIRECT_URL the direct one, in the env file and in envForApp', async () => {
  const database = process.env.CLAUDABLE_TEST_DATABASE;
  // The DBA sets a pooler for the metadata database; the deploy role's next session has it.
  await superuser.query(`ALTER DATABASE ${database} SET claudable.pooler_host = '127.0.0.1'`);
  await closeClaudablePools();
  let info;
  try {
    info = await provisionProjectDatabase('node-pooled', 'team-node', { adminUrl });
  } finally {
    await superuser.query(`ALTER DATABASE ${database} RESET claudable.pooler_host`);
    await closeClaudablePools();
  }
  assert.match(info.pooledDatabaseUrl, /^postgresql:\/\/app_u_node_pooled:[^@]+@127\.0\.0\.1:6432\/app_db_node_pooled/);
  assert.notEqual(info.pooledDatabaseUrl, info.databaseUrl);
  const dir = scratchDirectory();
  await writeEnvFile(dir, 'node-pooled', info);
  assert.equal(readFileSync(path.join(dir, 'node-pooled/.env.production'), 'utf8'),
               `DATABASE_URL=${info.pooledDatabaseUrl}\nDIRECT_URL=${info.databaseUrl}\n`);
  const env = envForApp(info, { parentEnv: {} });
  assert.deepEqual(env, { DATABASE_URL: info.pooledDatabaseUrl, DIRECT_URL: info.databaseUrl });
  for (const shown of [inspect(info), JSON.stringify(info), String(info)])
    assert.ok(!shown.includes(info.password), `the password is visible in: ${shown}`);
  // Without a pooler, both are the direct URL.
  const plain = await provisionProjectDatabase('node-app', 'team-node', { adminUrl });
  assert.deepEqual(envForApp(plain, { parentEnv: {} }), { DATABASE_URL: plain.databaseUrl, DIRECT_URL: plain.databaseUrl });
});

test('writeEnvFile follows no symlink, refuses a FIFO and a file over the cap', async () => {
  const dir = scratchDirectory();
  writeFileSync(path.join(dir, 'secret'), 'root:x:0:0\n');
  mkdirSync(path.join(dir, 'linked'));
  symlinkSync(path.join(dir, 'secret'), path.join(dir, 'linked/.env.production'));
  await rejectsWith(writeEnvFile(dir, 'linked', 'postgresql://x'), InvalidInputError, '22023', 400);
  assert.equal(readFileSync(path.join(dir, 'secret'), 'utf8'), 'root:x:0:0\n');
  mkdirSync(path.join(dir, 'other'));
  symlinkSync(path.join(dir, 'other'), path.join(dir, 'dirlink'));
  await rejectsWith(writeEnvFile(dir, 'dirlink', 'postgresql://x'), InvalidInputError, '22023', 400);
  assert.ok(!existsSync(path.join(dir, 'other/.env.production')));
  mkdirSync(path.join(dir, 'fifo'));
  execSync(`mkfifo ${path.join(dir, 'fifo/.env.production')}`);
  await rejectsWith(writeEnvFile(dir, 'fifo', 'postgresql://x'), InvalidInputError, '22023', 400);
  assert.ok(statSync(path.join(dir, 'fifo/.env.production')).isFIFO(), 'the FIFO is left as it was');
  mkdirSync(path.join(dir, 'big'));
  writeFileSync(path.join(dir, 'big/.env.production'), 'x'.repeat((1 << 20) + 1));
  await rejectsWith(writeEnvFile(dir, 'big', 'postgresql://x'), InvalidInputError, '22023', 400);
  assert.equal(statSync(path.join(dir, 'big/.env.production')).size, (1 << 20) + 1, 'the big file is left as it was');
  await rejectsWith(writeEnvFile(dir, '..', 'postgresql://x'), InvalidInputError, '22023', 400);
  assert.ok(!existsSync(path.join(dir, '..', '.env.production')), 'nothing is written above the projects directory');
});

test('envForApp builds the app\'s environment from PATH, HOME, NODE_ENV, PORT, TZ, LANG, the names passed and the database variables', () => {
  const env = envForApp({ databaseUrl: 'postgresql://app' },
                        { parentEnv: { PATH: '/usr/bin', DB_ADMIN_URL: 'postgresql://admin:pw@h/db', PGPASSWORD: 'pw',
                                       PGPASSFILE: '/root/.pgpass', PGSERVICE: 'admin', NODE_ENV: 'production',
                                       DATABASE_URL: 'stale', KEEP_ME: 'yes', DROP_ME: 'no' },
                          pass: ['KEEP_ME'] });
  assert.deepEqual(env, { PATH: '/usr/bin', NODE_ENV: 'production', KEEP_ME: 'yes', DATABASE_URL: 'postgresql://app',
                          DIRECT_URL: 'postgresql://app' });
});

test('the package refuses to load in a browser bundle (window, no Node process)', () => {
  const code = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8');
  const browser = vm.createContext({ window: {}, exports: {}, module: { exports: {} }, require: () => ({}) });
  assert.throws(() => vm.runInContext(code, browser), /runs on the server only/);
});

// ---- snapshots, restore and branches (claudable 0.7.0) ------------------------------------------

// Runs `sql` as the app would, with the URL a call returned; resolves to the rows.
async function asProject(url, sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}
async function ordersIn(url) {
  const rows = await asProject(url, 'SELECT coalesce(string_agg(id::text, \',\' ORDER BY id), \'none\') AS ids FROM orders');
  return rows[0].ids;
}
// A project of team-node with a table `orders` holding `ids`, made by its own role.
async function projectWithOrders(projectId, ids) {
  const info = await provisionProjectDatabase(projectId, 'team-node', { adminUrl });
  await asProject(info.databaseUrl, `CREATE TABLE orders (id int); INSERT INTO orders VALUES ${ids.map((i) => `(${i})`).join(', ')}`);
  return info;
}

test('snapshot, change, restore: the data is back and the same URL and password still log in', async () => {
  const info = await projectWithOrders('node-snap', [1, 2]);
  const snapshot = await snapshotProjectDatabase('node-snap', 'team-node', { adminUrl, label: 'two orders' });
  assert.match(snapshot.snapshotId, /^snap-[0-9a-f]{12}$/);
  assert.equal(snapshot.projectId, 'node-snap');
  assert.equal(snapshot.label, 'two orders');
  assert.ok(typeof snapshot.sizeBytes === 'number' && snapshot.sizeBytes > 0);
  assert.ok(snapshot.createdAt instanceof Date && !Number.isNaN(snapshot.createdAt.getTime()));
  await asProject(info.databaseUrl, 'DELETE FROM orders; INSERT INTO orders VALUES (99)');
  assert.equal(await ordersIn(info.databaseUrl), '99');
  const restored = await restoreProjectDatabase('node-snap', 'team-node', snapshot.snapshotId, { adminUrl });
  assert.ok(restored instanceof ProjectDatabaseInfo);
  assert.equal(restored.created, false);
  assert.ok(restored.password === info.password && restored.databaseUrl === info.databaseUrl, 'same password and URL');
  assert.equal(await ordersIn(info.databaseUrl), '1,2');
  assert.equal((await asProject(restored.databaseUrl, 'SELECT current_user AS who'))[0].who, 'app_u_node_snap');
});

test('a restore keeps the state before it as a snapshot, listed newest first, that undoes it', async () => {
  const info = await projectWithOrders('node-undo', [1]);
  const { snapshotId } = await snapshotProjectDatabase('node-undo', 'team-node', { adminUrl });
  await asProject(info.databaseUrl, 'INSERT INTO orders VALUES (2)');
  await restoreProjectDatabase('node-undo', 'team-node', snapshotId, { adminUrl });
  const list = await listProjectSnapshots('node-undo', 'team-node', { adminUrl });
  assert.deepEqual(list.map((s) => s.label), [`before restore of ${snapshotId}`, null]);
  assert.equal(list[1].snapshotId, snapshotId);
  await restoreProjectDatabase('node-undo', 'team-node', list[0].snapshotId, { adminUrl });
  assert.equal(await ordersIn(info.databaseUrl), '1,2');
});

test('dropProjectSnapshot drops once, then returns false', async () => {
  await projectWithOrders('node-drop', [1]);
  const { snapshotId } = await snapshotProjectDatabase('node-drop', 'team-node', { adminUrl });
  assert.equal(await dropProjectSnapshot('node-drop', 'team-node', snapshotId, { adminUrl }), true);
  assert.equal(await dropProjectSnapshot('node-drop', 'team-node', snapshotId, { adminUrl }), false);
  assert.deepEqual(await listProjectSnapshots('node-drop', 'team-node', { adminUrl }), []);
});

test('a branch from current logs in as its own role, sees the project\'s data, and is its own copy', async () => {
  const parent = await projectWithOrders('node-br', [1, 2]);
  const branch = await branchProjectDatabase('node-br', 'team-node', 'pr-1', { adminUrl });
  assert.ok(branch instanceof ProjectDatabaseInfo);
  assert.equal(branch.projectId, 'node-br~pr-1');
  assert.equal(branch.created, true);
  assert.notEqual(branch.username, parent.username);
  assert.ok(branch.password !== parent.password, 'a password of its own');
  assert.equal((await asProject(branch.databaseUrl, 'SELECT current_user AS who'))[0].who, branch.username);
  assert.equal(await ordersIn(branch.databaseUrl), '1,2');
  await asProject(branch.databaseUrl, 'INSERT INTO orders VALUES (3)');
  assert.equal(await ordersIn(parent.databaseUrl), '1,2');
});

test('a second branch call with the same branchId returns the branch, created false, whatever source it names', async () => {
  await projectWithOrders('node-br-again', [1]);
  const first = await branchProjectDatabase('node-br-again', 'team-node', 'b', { adminUrl });
  const again = await branchProjectDatabase('node-br-again', 'team-node', 'b', { adminUrl, source: 'empty' });
  assert.equal(again.created, false);
  assert.ok(again.password === first.password && again.databaseUrl === first.databaseUrl);
  assert.equal(await ordersIn(again.databaseUrl), '1');
});

test('a branch from empty logs in and has none of the project\'s tables', async () => {
  await projectWithOrders('node-br-empty', [1]);
  const branch = await branchProjectDatabase('node-br-empty', 'team-node', 'blank', { adminUrl, source: 'empty' });
  assert.equal((await asProject(branch.databaseUrl, 'SELECT current_user AS who'))[0].who, branch.username);
  assert.equal((await asProject(branch.databaseUrl, "SELECT to_regclass('public.orders') AS t"))[0].t, null);
});

test('a branch from a snapshot logs in and sees the data as it was then', async () => {
  const parent = await projectWithOrders('node-br-snap', [1]);
  const { snapshotId } = await snapshotProjectDatabase('node-br-snap', 'team-node', { adminUrl });
  await asProject(parent.databaseUrl, 'INSERT INTO orders VALUES (2)');
  const branch = await branchProjectDatabase('node-br-snap', 'team-node', 'then', { adminUrl, source: snapshotId });
  assert.equal((await asProject(branch.databaseUrl, 'SELECT current_user AS who'))[0].who, branch.username);
  assert.equal(await ordersIn(branch.databaseUrl), '1');
  assert.equal(await ordersIn(parent.databaseUrl), '1,2');
});

test('a branch keeps the expiresAt it was given', async () => {
  await projectWithOrders('node-br-exp', [1]);
  const expiresAt = new Date('2031-01-02T03:04:05.250Z');
  await branchProjectDatabase('node-br-exp', 'team-node', 'short', { adminUrl, expiresAt });
  const { rows } = await superuser.query("SELECT expires_at FROM claudable.databases WHERE project_id = 'node-br-exp~short'");
  assert.equal(rows[0].expires_at.getTime(), expiresAt.getTime());
});

test('restore and branch results mask the password and the URL in console.log, util.inspect, JSON.stringify and String()', async () => {
  await projectWithOrders('node-br-mask', [1]);
  const { snapshotId } = await snapshotProjectDatabase('node-br-mask', 'team-node', { adminUrl });
  const restored = await restoreProjectDatabase('node-br-mask', 'team-node', snapshotId, { adminUrl });
  const branch = await branchProjectDatabase('node-br-mask', 'team-node', 'masked', { adminUrl });
  for (const info of [restored, branch]) {
    for (const shown of [inspect(info), JSON.stringify(info), String(info), `${info}`]) {
      assert.ok(!shown.includes(info.password), `the password is visible in: ${shown}`);
      assert.ok(!shown.includes(info.databaseUrl), `the URL is visible in: ${shown}`);
      assert.ok(shown.includes(MASK), `the mask is missing in: ${shown}`);
    }
  }
  const list = JSON.stringify(await listProjectSnapshots('node-br-mask', 'team-node', { adminUrl }));
  assert.ok(!list.includes(restored.password) && !list.includes('postgresql://'), 'a snapshot carries no secret');
});

test('another owner is PermissionDeniedError (403) for every snapshot and branch call, and nothing changes', async () => {
  const info = await projectWithOrders('node-own', [1]);
  const { snapshotId } = await snapshotProjectDatabase('node-own', 'team-node', { adminUrl });
  for (const refused of [
    () => snapshotProjectDatabase('node-own', 'intruder', { adminUrl }),
    () => listProjectSnapshots('node-own', 'intruder', { adminUrl }),
    () => restoreProjectDatabase('node-own', 'intruder', snapshotId, { adminUrl }),
    () => dropProjectSnapshot('node-own', 'intruder', snapshotId, { adminUrl }),
    () => branchProjectDatabase('node-own', 'intruder', 'stolen', { adminUrl }),
    () => branchProjectDatabase('node-own', 'intruder', 'stolen', { adminUrl, source: snapshotId }),
  ]) {
    const error = await rejectsWith(refused(), PermissionDeniedError, '42501', 403);
    assert.ok(!error.message.includes(info.password));
  }
  const list = await listProjectSnapshots('node-own', 'team-node', { adminUrl });
  assert.deepEqual(list.map((s) => s.snapshotId), [snapshotId], 'no snapshot made or dropped');
  const { rows } = await superuser.query("SELECT count(*) AS n FROM claudable.projects WHERE project_id LIKE 'node-own~%'");
  assert.equal(Number(rows[0].n), 0, 'no branch');
});

test('a bad branchId is InvalidInputError (400) and creates nothing', async () => {
  await projectWithOrders('node-badbr', [1]);
  for (const bad of ['bad id!', '-lead', 'a~b', 'x'.repeat(64), '', 'x\nSET ROLE postgres', null])
    await rejectsWith(branchProjectDatabase('node-badbr', 'team-node', bad, { adminUrl }), InvalidInputError, '22023', 400);
  await rejectsWith(branchProjectDatabase('node-badbr', 'team-node', 'ok', { adminUrl, source: 'yesterday' }),
                    InvalidInputError, '22023', 400);
  const { rows } = await superuser.query("SELECT count(*) AS n FROM claudable.projects WHERE project_id LIKE 'node-badbr~%'");
  assert.equal(Number(rows[0].n), 0);
});

test('a branch of a branch is InvalidInputError (0A000, 400)', async () => {
  await projectWithOrders('node-br-deep', [1]);
  await branchProjectDatabase('node-br-deep', 'team-node', 'one', { adminUrl });
  await rejectsWith(branchProjectDatabase('node-br-deep~one', 'team-node', 'two', { adminUrl }), InvalidInputError, '0A000', 400);
});

test('another project\'s snapshot is InvalidInputError (P0002) for restore and branch, and changes nothing', async () => {
  const mine = await projectWithOrders('node-mine', [1]);
  await projectWithOrders('node-theirs', [7]);
  const { snapshotId } = await snapshotProjectDatabase('node-theirs', 'team-node', { adminUrl });
  await rejectsWith(restoreProjectDatabase('node-mine', 'team-node', snapshotId, { adminUrl }), InvalidInputError, 'P0002', 400);
  await rejectsWith(branchProjectDatabase('node-mine', 'team-node', 'theirs', { adminUrl, source: snapshotId }),
                    InvalidInputError, 'P0002', 400);
  assert.equal(await dropProjectSnapshot('node-mine', 'team-node', snapshotId, { adminUrl }), false);
  assert.equal(await ordersIn(mine.databaseUrl), '1');
  assert.equal((await listProjectSnapshots('node-theirs', 'team-node', { adminUrl })).length, 1);
});

test('a snapshot whose connection is lost is OutcomeUnknownError (503) and is not re-sent', async () => {
  await projectWithOrders('node-lost-snap', [1]);
  const holder = await superuser.connect();
  await holder.query('BEGIN');
  await holder.query("SELECT 1 FROM claudable.projects WHERE project_id = 'node-lost-snap' FOR UPDATE");
  let retries = 0;
  const pending = snapshotProjectDatabase('node-lost-snap', 'team-node', { adminUrl, onRetry: () => retries++ });
  pending.catch(() => {});  // it may reject while the loop below still runs; it is examined after
  for (let i = 0; i < 100; i++) {
    const { rows } = await superuser.query(
      "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'claudable-client (node)'" +
      " AND query LIKE '%claudable_snapshot(%' AND state = 'active'");
    if (rows.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await rejectsWith(pending, OutcomeUnknownError, '08006', 503);
  await holder.query('ROLLBACK');
  holder.release();
  assert.equal(retries, 0, 'a snapshot is never re-sent');
  // The worker of the one snapshot that was sent finishes alone; the server made one.
  let made = 0;
  for (let i = 0; i < 100 && made === 0; i++) {
    made = (await listProjectSnapshots('node-lost-snap', 'team-node', { adminUrl })).length;
    if (made === 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(made, 1, 'the server made exactly one snapshot');
});
