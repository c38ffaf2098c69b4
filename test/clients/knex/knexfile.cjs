// knex's configuration, as an app has it: the URL from the environment (the suite sets
// CLIENT_URL to the direct or the pooled URL), the migrations in ./migrations.
module.exports = {
  client: 'pg',
  connection: process.env.CLIENT_URL,
  pool: { min: 0, max: 6 },
  migrations: { directory: './migrations', tableName: 'knex_migrations' },
};
