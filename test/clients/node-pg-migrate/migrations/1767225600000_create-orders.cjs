exports.up = (pgm) => {
  pgm.createTable('pgm_orders', {
    id: 'id',
    reference: { type: 'text', notNull: true, unique: true },
    created_at: { type: 'timestamptz', notNull: true, default: pgm.func('now()') },
  });
};
exports.down = (pgm) => pgm.dropTable('pgm_orders');
