// openapi-parse: loads and validates each OpenAPI document with
// @apidevtools/swagger-parser, a second parser outside Go (besides
// kin-openapi and Spectral), so the specs are known to read in the tools
// users feed them to.
//
//   node scripts/openapi-parse.cjs DIR FILE...   (DIR: where npm installed it)
'use strict';
const path = require('path');
const SwaggerParser = require(path.resolve(process.argv[2], 'node_modules/@apidevtools/swagger-parser'));

(async () => {
  let failed = false;
  for (const file of process.argv.slice(3)) {
    try {
      const api = await SwaggerParser.validate(file);
      const ops = Object.values(api.paths).reduce((n, item) => n + Object.keys(item).filter((k) => k !== 'parameters').length, 0);
      console.log(`${file}: valid OpenAPI ${api.openapi} (swagger-parser): ${Object.keys(api.paths).length} paths, ${ops} operations`);
    } catch (err) {
      console.error(`${file}: ${err.message}`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
})();
