// TypeORM's data source, as an app has it for `typeorm migration:run -d`: the URL from the
// environment (the suite sets CLIENT_URL to the direct or the pooled URL), the migrations in
// ./migrations, one entity (an EntitySchema: plain JavaScript, no decorators).
const path = require('node:path');
const { DataSource, EntitySchema } = require('typeorm');

const Invoice = new EntitySchema({
  name: 'Invoice',
  tableName: 'typeorm_invoices',
  columns: {
    id: { type: Number, primary: true, generated: true },
    number: { type: String, unique: true },
    amountCents: { type: Number, name: 'amount_cents' },
  },
});

module.exports = {
  Invoice,
  default: new DataSource({
    type: 'postgres',
    url: process.env.CLIENT_URL,
    entities: [Invoice],
    migrations: [path.join(__dirname, 'migrations', '*.cjs')],
    migrationsTableName: 'typeorm_migrations',
    poolSize: 6,
    logging: false,
  }),
};
