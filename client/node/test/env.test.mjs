// What an app is given, without a server: the environment envForApp builds (an explicit base,
// the names the caller passes, DATABASE_URL and DIRECT_URL, nothing else of the parent), the
// env bundle (DATABASE_URL pooled when there is a pooler, DIRECT_URL always direct), the env
// file merge, and nodePostgresUrl's rewriting of sslmode for node-postgres.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { spawnSync } from 'node:child_process';
import {
  envForApp, databaseVariables, mergeEnvVariables, mergeDatabaseUrl, nodePostgresUrl, APP_BASE_VARIABLES,
  ProjectDatabaseInfo, InvalidInputError, MASK,
} from '../dist/index.mjs';

const direct = 'postgresql://app_u_shop:direct-secret@db.internal:5432/app_db_shop';
const pooled = 'postgresql://app_u_shop:direct-secret@pooler.internal:6432/app_db_shop';

function info(pooledDatabaseUrl = null) {
  return new ProjectDatabaseInfo({
    projectId: 'shop', ownerId: 'team', databaseName: 'app_db_shop', username: 'app_u_shop', password: 'direct-secret',
    host: 'db.internal', port: 5432, databaseUrl: direct, created: true, createdAt: new Date(0), pooledDatabaseUrl,
  });
}

// The platform's process as an attacker would like it: its own secrets, the deploy service's
// credentials and variables that change how Node or a Next.js build runs.
const platformEnv = Object.freeze({
  PATH: '/usr/local/bin:/usr/bin', HOME: '/home/app', NODE_ENV: 'production', PORT: '3000', TZ: 'UTC', LANG: 'C.UTF-8',
  NEXTAUTH_SECRET: 'nextauth-secret', AWS_SECRET_ACCESS_KEY: 'aws-secret', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  POSTGRES_URL: 'postgresql://platform:platform-secret@db/platform', NODE_OPTIONS: '--require /tmp/evil.js',
  __NEXT_PRIVATE_PREBUNDLED_REACT: 'next', __NEXT_PRIVATE_ORIGIN: 'http://internal', PGPASSWORD: 'pg-secret',
  PGHOST: '/tmp', PGSERVICE: 'admin', PGPASSFILE: '/root/.pgpass', DB_ADMIN_URL: 'postgresql://deploy:admin-secret@db/meta',
  DATABASE_URL: 'postgresql://stale', DIRECT_URL: 'postgresql://stale-direct', STRIPE_SECRET_KEY: 'sk_live_x',
});
const secrets = ['nextauth-secret', 'aws-secret', 'AKIAEXAMPLE', 'platform-secret', 'evil.js', 'http://internal', 'pg-secret',
                 'admin-secret', 'stale', 'sk_live_x', '/root/.pgpass'];

test('envForApp gives the app PATH, HOME, NODE_ENV, PORT, TZ, LANG and the database variables, nothing else', () => {
  const env = envForApp(info(), { parentEnv: platformEnv });
  assert.deepEqual(Object.keys(env).sort(),
                   ['DATABASE_URL', 'DIRECT_URL', 'HOME', 'LANG', 'NODE_ENV', 'PATH', 'PORT', 'TZ']);
  assert.deepEqual([...APP_BASE_VARIABLES], ['PATH', 'HOME', 'NODE_ENV', 'PORT', 'TZ', 'LANG']);
  assert.equal(env.PATH, platformEnv.PATH);
  assert.equal(env.DATABASE_URL, direct);
});

test('envForApp: none of the platform\'s secrets (NEXTAUTH_SECRET, AWS_*, POSTGRES_URL, NODE_OPTIONS, __NEXT_PRIVATE_*, PG*, DB_ADMIN_URL) reaches the app', () => {
  const env = envForApp(info(), { parentEnv: platformEnv, pass: ['STRIPE_SECRET_KEY'] });
  for (const name of ['NEXTAUTH_SECRET', 'AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'POSTGRES_URL', 'NODE_OPTIONS',
                      '__NEXT_PRIVATE_PREBUNDLED_REACT', '__NEXT_PRIVATE_ORIGIN', 'PGPASSWORD', 'PGHOST', 'PGSERVICE',
                      'PGPASSFILE', 'DB_ADMIN_URL'])
    assert.ok(!(name in env), `${name} reached the app`);
  const shown = JSON.stringify(env);
  for (const secret of secrets.filter((s) => s !== 'sk_live_x')) assert.ok(!shown.includes(secret), `${secret} reached the app`);
});

test('envForApp reads process.env by default, and a child started with its result sees only the list', () => {
  const saved = { ...process.env };
  Object.assign(process.env, platformEnv, { PATH: saved.PATH });
  let env;
  try {
    env = envForApp(info(pooled));
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
  const child = spawnSync(process.execPath, ['-e', 'console.log(Object.keys(process.env).sort().join(" "))'],
                          { env, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'DATABASE_URL DIRECT_URL HOME LANG NODE_ENV PATH PORT TZ');
  assert.equal(env.DATABASE_URL, pooled);
});

test('envForApp passes a variable the caller names, and leaves out one the parent does not have', () => {
  const env = envForApp(info(), { parentEnv: platformEnv, pass: ['STRIPE_SECRET_KEY', 'NOT_SET_ANYWHERE'] });
  assert.equal(env.STRIPE_SECRET_KEY, 'sk_live_x');
  assert.ok(!('NOT_SET_ANYWHERE' in env));
});

test('envForApp refuses to pass DB_ADMIN_URL, any PG* variable, DATABASE_URL or DIRECT_URL, with a clear error', () => {
  for (const name of ['DB_ADMIN_URL', 'PGPASSWORD', 'PGPASSFILE', 'PGSERVICE', 'PGHOST', 'pgpassword', 'db_admin_url',
                      'DATABASE_URL', 'DIRECT_URL']) {
    assert.throws(() => envForApp(info(), { parentEnv: platformEnv, pass: [name] }),
                  (e) => e instanceof InvalidInputError && e.message.includes(`${name} may not be passed to the app`) &&
                         !e.message.includes('admin-secret') && !e.message.includes('pg-secret'),
                  name);
  }
  assert.throws(() => envForApp(info(), { pass: ['PGPASSWORD'] }), /libpq reads every PG\* variable/);
  assert.throws(() => envForApp(info(), { pass: ['DB_ADMIN_URL'] }), /admin connection/);
  assert.throws(() => envForApp(info(), { pass: ['A=B'] }), /is not a variable name/);
});

test('envForApp refuses the old call envForApp(info, process.env): the parent environment is options.parentEnv', () => {
  assert.throws(() => envForApp(info(), platformEnv), (e) => e instanceof InvalidInputError && /is not an option/.test(e.message));
});

test('the env bundle: DATABASE_URL is the pooled URL when the row has one, DIRECT_URL always the direct URL', () => {
  assert.deepEqual(databaseVariables(info(pooled)), { DATABASE_URL: pooled, DIRECT_URL: direct });
  assert.deepEqual(databaseVariables(info(null)), { DATABASE_URL: direct, DIRECT_URL: direct });
  assert.deepEqual(databaseVariables(direct), { DATABASE_URL: direct, DIRECT_URL: direct });
  const env = envForApp(info(pooled), { parentEnv: {} });
  assert.deepEqual(env, { DATABASE_URL: pooled, DIRECT_URL: direct });
});

test('the env bundle refuses a URL with a line break (it would add a line to an env file)', () => {
  assert.throws(() => databaseVariables({ databaseUrl: 'postgresql://a\nPGPASSWORD=x' }), InvalidInputError);
  assert.throws(() => mergeEnvVariables('', { DATABASE_URL: 'x\ry' }), InvalidInputError);
});

test('pooledDatabaseUrl is masked in console.log, util.inspect, JSON.stringify and String() like databaseUrl', () => {
  const i = info('postgresql://app_u_shop:pooled-secret@pooler.internal:6432/app_db_shop');
  for (const shown of [inspect(i), JSON.stringify(i), String(i)]) {
    assert.ok(!shown.includes('pooled-secret') && !shown.includes('direct-secret'), shown);
  }
  assert.equal(JSON.parse(JSON.stringify(i)).pooledDatabaseUrl, `postgresql://app_u_shop:${MASK}@pooler.internal:6432/app_db_shop`);
  assert.equal(i.pooledDatabaseUrl, 'postgresql://app_u_shop:pooled-secret@pooler.internal:6432/app_db_shop');
});

test('mergeEnvVariables replaces each line in place, adds the missing ones, keeps CRLF, export and the other lines', () => {
  assert.equal(mergeEnvVariables('A=1\r\nexport DIRECT_URL=old\r\nDATABASE_URL=old\r\nDATABASE_URL=dup\r\n',
                                 { DATABASE_URL: 'p', DIRECT_URL: 'd' }),
               'A=1\r\nexport DIRECT_URL=d\r\nDATABASE_URL=p\r\n');
  assert.equal(mergeEnvVariables('A=1', { DATABASE_URL: 'p', DIRECT_URL: 'd' }), 'A=1\nDATABASE_URL=p\nDIRECT_URL=d\n');
  assert.equal(mergeEnvVariables('', { DATABASE_URL: 'p', DIRECT_URL: 'd' }), 'DATABASE_URL=p\nDIRECT_URL=d\n');
  assert.equal(mergeEnvVariables('DIRECT_URL_X=1\n#DIRECT_URL=y\n', { DIRECT_URL: 'd' }), 'DIRECT_URL_X=1\n#DIRECT_URL=y\nDIRECT_URL=d\n');
  assert.equal(mergeDatabaseUrl('DATABASE_URL="old value"\n', 'new'), 'DATABASE_URL=new\n');
});

test('nodePostgresUrl adds uselibpqcompat=true for sslmode=require and verify-ca', () => {
  const base = 'postgresql://u:p%40ss@h:5432/d';
  assert.equal(nodePostgresUrl(`${base}?sslmode=require`), `${base}?sslmode=require&uselibpqcompat=true`);
  assert.equal(nodePostgresUrl(`${base}?sslmode=verify-ca&sslrootcert=/ca.pem`),
               `${base}?sslmode=verify-ca&sslrootcert=/ca.pem&uselibpqcompat=true`);
});

test('nodePostgresUrl removes sslmode=allow and prefer (node-postgres has no fallback) and keeps the other parameters', () => {
  const base = 'postgresql://u:p@h:5432/d';
  assert.equal(nodePostgresUrl(`${base}?sslmode=prefer`), base);
  assert.equal(nodePostgresUrl(`${base}?sslmode=allow`), base);
  assert.equal(nodePostgresUrl(`${base}?application_name=x&sslmode=prefer&connect_timeout=5`),
               `${base}?application_name=x&connect_timeout=5`);
});

test('nodePostgresUrl leaves no sslmode, disable, verify-full and a URL that already chose uselibpqcompat as they are', () => {
  const base = 'postgresql://u:p@h:5432/d';
  for (const url of [base, `${base}?sslmode=disable`, `${base}?sslmode=verify-full`, `${base}?sslmode=require&uselibpqcompat=false`,
                     `${base}?application_name=x`])
    assert.equal(nodePostgresUrl(url), url);
});

test('nodePostgresUrl refuses what is not a postgres URL without showing it', () => {
  assert.throws(() => nodePostgresUrl('host=h password=conninfo-secret'),
                (e) => e instanceof InvalidInputError && !e.message.includes('conninfo-secret'));
});

test('envForApp and databaseVariables apply nodePostgresUrl to both URLs when asked (nodePostgres: true)', () => {
  const withMode = (url) => `${url}?sslmode=require`;
  const i = { databaseUrl: withMode(direct), pooledDatabaseUrl: withMode(pooled) };
  const env = envForApp(i, { parentEnv: {}, nodePostgres: true });
  assert.deepEqual(env, { DATABASE_URL: `${withMode(pooled)}&uselibpqcompat=true`,
                          DIRECT_URL: `${withMode(direct)}&uselibpqcompat=true` });
  assert.deepEqual(envForApp(i, { parentEnv: {} }), { DATABASE_URL: withMode(pooled), DIRECT_URL: withMode(direct) });
});
