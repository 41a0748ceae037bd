#!/usr/bin/env node
// Launcher for the built CLI (inside the repo, run `pnpm --filter @orgchat/service-node start` to use the sources).
import "../dist/cli.js";
