#!/usr/bin/env node
/**
 * Regenerates every committed generated file and fails if anything changed:
 *   - the protobuf-es codecs (`buf generate` → packages/wire/src/gen)
 *   - the wire vectors (packages/wire/scripts/generate-vectors.ts → vectors/wire)
 *   - the crypto vectors (packages/crypto/scripts/generate-vectors.ts and leaf-schedule-vectors.ts → vectors/crypto)
 * A diff means a .proto or the code changed without regenerating: run `pnpm generate` and
 * `pnpm --filter @orgchat/wire vectors`, review, and commit the result.
 */
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const generated = ["packages/wire/src/gen", "vectors/wire", "vectors/crypto"];

function run(command, args) {
  process.stdout.write(`check-generated: ${command} ${args.join(" ")}\n`);
  execFileSync(command, args, { cwd: root, stdio: "inherit" });
}

run("buf", ["generate"]);
run("tsx", ["--conditions=@orgchat/source", "packages/wire/scripts/generate-vectors.ts"]);
run("tsx", ["--conditions=@orgchat/source", "packages/crypto/scripts/generate-vectors.ts"]);
run("tsx", ["--conditions=@orgchat/source", "packages/crypto/scripts/leaf-schedule-vectors.ts"]);

const status = execFileSync("git", ["status", "--porcelain", "--", ...generated], {
  cwd: root,
  encoding: "utf8",
});
if (status.trim() !== "") {
  process.stderr.write(
    `check-generated: regenerating changed committed files:\n${status}` +
      "Run `pnpm generate`, `pnpm --filter @orgchat/wire vectors` and `pnpm --filter @orgchat/crypto vectors`, review the diff, and commit it.\n",
  );
  execFileSync("git", ["--no-pager", "diff", "--stat", "--", ...generated], {
    cwd: root,
    stdio: "inherit",
  });
  process.exit(1);
}
process.stdout.write("check-generated: generated code and vectors are up to date\n");
