module.exports = class CreateInvoices1767225600000 {
  name = 'CreateInvoices1767225600000';
  async up(queryRunner) {
    await queryRunner.query('CREATE TABLE "typeorm_invoices" ("id" SERIAL PRIMARY KEY, "number" text NOT NULL UNIQUE)');
  }
  async down(queryRunner) {
    await queryRunner.query('DROP TABLE "typeorm_invoices"');
  }
};
