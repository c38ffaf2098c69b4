// dist/index.mjs: the ESM entry, re-exporting the CommonJS build by name, so that
// `import { provisionProjectDatabase } from 'claudable-client'` and `require(...)` see one module.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const require = createRequire(import.meta.url);
const names = Object.keys(require('../dist/index.js')).filter((name) => name !== 'default').sort();
writeFileSync(new URL('../dist/index.mjs', import.meta.url),
  `import cjs from './index.js';\nexport const { ${names.join(', ')} } = cjs;\nexport default cjs;\n`);
