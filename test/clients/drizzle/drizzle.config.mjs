// drizzle-kit's configuration, as an app has it: the migrations in ./migrations, the URL
// from the environment (the suite sets CLIENT_URL to the direct or the pooled URL).
export default {
  dialect: 'postgresql',
  schema: './schema.mjs',
  out: './migrations',
  dbCredentials: { url: process.env.CLIENT_URL },
};
