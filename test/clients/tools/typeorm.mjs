// TypeORM: `typeorm migration:run -d data-source.cjs` as a deploy step runs it, twice (the
// second has nothing to do), then the repository API as an app uses it: a transaction, 6
// queries at a time.
import path from 'node:path';
import { createRequire } from 'node:module';
import { run, concurrently, expect, url } from './common.mjs';
import { cli, bin, root } from './cli.mjs';

const dir = path.join(root, 'typeorm');
const migrate = () => cli(bin('typeorm'), ['migration:run', '-d', './data-source.cjs'], { cwd: dir, env: { CLIENT_URL: url } });

await run(async () => {
  const first = await migrate();
  expect(/Migration AddAmount1767225600001 has been {1,2}executed successfully/.test(first), 'the first migration:run runs both migrations');
  const second = await migrate();
  expect(/No migrations are pending/.test(second), 'the second migration:run is a no-op');
  process.env.CLIENT_URL = url;
  const { default: dataSource, Invoice } = createRequire(import.meta.url)(path.join(dir, 'data-source.cjs'));
  await dataSource.initialize();
  try {
    const [{ n: applied }] = await dataSource.query('SELECT count(*)::int AS n FROM typeorm_migrations');
    expect(applied === 2, 'two migrations recorded');
    await dataSource.transaction(async (manager) => {
      await manager.getRepository(Invoice).save([{ number: 'INV-1', amountCents: 500 }, { number: 'INV-2', amountCents: 700 }]);
    });
    const invoices = dataSource.getRepository(Invoice);
    await concurrently(6, 10, async (w, i) => {
      const found = await invoices.findOneBy({ number: `INV-${1 + ((w + i) % 2)}` });
      expect(found && found.amountCents === ((w + i) % 2 ? 700 : 500), 'findOneBy');
    });
  } finally {
    await dataSource.destroy();
  }
});
