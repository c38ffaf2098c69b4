module.exports = class AddAmount1767225600001 {
  name = 'AddAmount1767225600001';
  async up(queryRunner) {
    await queryRunner.query('ALTER TABLE "typeorm_invoices" ADD "amount_cents" integer NOT NULL DEFAULT 0');
  }
  async down(queryRunner) {
    await queryRunner.query('ALTER TABLE "typeorm_invoices" DROP COLUMN "amount_cents"');
  }
};
