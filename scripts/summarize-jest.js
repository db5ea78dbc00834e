#!/usr/bin/env node
// Prints the one plain line CI reads, `N passed, N failed`, from jest's --json output (all projects together).
// A missing or unreadable report counts as a failure so that a run that executed nothing is visible.
const fs = require('fs');
const file = process.argv[2];
let report;
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (err) {
  console.error(`no jest report at ${file}: ${err.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const failedSuites = report.numRuntimeErrorTestSuites || 0;
const failed = report.numFailedTests + failedSuites;
console.log(`${report.numPassedTests} passed, ${failed} failed` + (report.numPendingTests ? `, ${report.numPendingTests} skipped` : ''));
process.exit(failed === 0 && report.numPassedTests > 0 ? 0 : 1);
