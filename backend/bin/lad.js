#!/usr/bin/env node
// The `lad` command. The TypeScript sources are compiled to backend/dist by `npm ci` (the prepare script).
require('../dist/cli/main.js');
