// Sequelize (over pg): a model, sync() (CREATE TABLE IF NOT EXISTS), a managed transaction,
// and 6 queries at a time, as an app uses it.
import { Sequelize, DataTypes, Op } from 'sequelize';
import { run, concurrently, expect, url } from './common.mjs';

await run(async () => {
  const sequelize = new Sequelize(url, { dialect: 'postgres', logging: false, pool: { max: 6, min: 0 } });
  try {
    const Customer = sequelize.define('Customer', {
      email: { type: DataTypes.TEXT, allowNull: false, unique: true },
      visits: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    }, { tableName: 'sequelize_customers' });
    await sequelize.authenticate();
    await sequelize.sync();
    await sequelize.sync();  // again: the table is there, nothing changes
    await sequelize.transaction(async (transaction) => {
      await Customer.bulkCreate([{ email: 'a@example.org', visits: 1 }, { email: 'b@example.org', visits: 2 }], { transaction });
      await Customer.increment('visits', { by: 10, where: { email: 'b@example.org' }, transaction });
    });
    await concurrently(6, 10, async (w, i) => {
      const n = await Customer.count({ where: { visits: { [Op.gt]: (w + i) % 3 } } });
      expect(n === [1, 12].filter((v) => v > (w + i) % 3).length, 'count');
    });
  } finally {
    await sequelize.close();
  }
});
