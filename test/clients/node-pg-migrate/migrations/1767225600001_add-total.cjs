exports.up = (pgm) => {
  pgm.addColumn('pgm_orders', { total_cents: { type: 'integer', notNull: true, default: 0 } });
  pgm.createIndex('pgm_orders', 'created_at');
};
exports.down = (pgm) => pgm.dropColumn('pgm_orders', 'total_cents');
