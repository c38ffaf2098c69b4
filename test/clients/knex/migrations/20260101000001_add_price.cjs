exports.up = (knex) => knex.schema.alterTable('knex_items', (t) => { t.decimal('price', 10, 2); });
exports.down = (knex) => knex.schema.alterTable('knex_items', (t) => { t.dropColumn('price'); });
