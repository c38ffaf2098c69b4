exports.up = (knex) =>
  knex.schema.createTable('knex_items', (t) => {
    t.increments('id');
    t.text('name').notNullable().unique();
    t.integer('quantity').notNullable().defaultTo(0);
  });
exports.down = (knex) => knex.schema.dropTable('knex_items');
