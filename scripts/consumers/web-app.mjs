/**
 * Files `scripts/consumers.mjs` writes into the consumer project: the small web app it builds with
 * Vite from the installed tarballs (it imports the browser-facing packages the way a page would and
 * uses each one, so that tree shaking keeps what a real page keeps), and the loader of every entry.
 */

/**
 * `load-entries.mjs`: imports each specifier of the JSON array in argv[2] (`{ specifier,
 * optionalPeers }`) and prints `{ loaded, failed: [{ specifier, error }], skipped: [specifier] }`.
 * An entry that fails only because an optional peer dependency is not installed is skipped.
 */
export const loadEntriesMjs = `const entries = JSON.parse(process.argv[2]);
const result = { loaded: 0, failed: [], skipped: [] };
for (const { specifier, optionalPeers } of entries) {
  try {
    const namespace = await import(specifier);
    if (Object.keys(namespace).length === 0) throw new Error("the module exports nothing");
    result.loaded++;
  } catch (error) {
    const missing = error?.code === "ERR_MODULE_NOT_FOUND" &&
      optionalPeers.some((peer) => String(error.message).includes(\`'\${peer}'\`));
    if (missing) result.skipped.push(specifier);
    else result.failed.push({ specifier, error: String(error?.message ?? error).split("\\n")[0] });
  }
}
console.log(JSON.stringify(result));
process.exit(0);
`;

/** `index.html` */
export const indexHtml = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>orgchat consumer</title></head>
  <body>
    <input id="peer" placeholder="/ip4/127.0.0.1/tcp/60000/ws/p2p/…" />
    <button id="connect">Create an organization</button>
    <pre id="out"></pre>
    <script type="module" src="./main.ts"></script>
  </body>
</html>
`;

/**
 * `main.ts`, typechecked (lib "dom") and bundled: a page that makes a client over light-mode Waku and
 * creates an organization. It imports what a web app would: the light entry of
 * `@orgchat/transport-waku` and the IndexedDB store when the packages offer them, else the root
 * entry and the in-memory store.
 * @param options - `lightEntry`: `@orgchat/transport-waku` exports `./light`; `indexedDbStore`:
 *   `@orgchat/store-indexeddb` is one of the packed packages
 * @returns the file's text
 */
export function mainTs({ lightEntry, indexedDbStore }) {
  const transport = lightEntry ? "@orgchat/transport-waku/light" : "@orgchat/transport-waku";
  const store = indexedDbStore
    ? 'import { openIndexedDbStore } from "@orgchat/store-indexeddb";\nimport { isStoreLockedError } from "@orgchat/store";'
    : 'import { memoryStore } from "@orgchat/store";';
  const openStore = indexedDbStore
    ? 'await openIndexedDbStore({ name: "default" }).catch((error: unknown) => {\n    if (isStoreLockedError(error)) say("open in another tab");\n    throw error;\n  })'
    : "memoryStore()";
  return `import { createClient } from "@orgchat/client";
import { defaultProvider } from "@orgchat/crypto";
import { OrgLog } from "@orgchat/state";
${store}
import { wakuTransport } from "${transport}";
import { descriptionTopic } from "@orgchat/wire";

const out = document.querySelector<HTMLPreElement>("#out");
const peer = document.querySelector<HTMLInputElement>("#peer");
const say = (line: string) => {
  if (out) out.textContent += \`\${line}\\n\`;
};

document.querySelector("#connect")?.addEventListener("click", async () => {
  const provider = defaultProvider();
  const transport = wakuTransport({ mode: "light", peers: peer?.value ? [peer.value] : [] });
  const store = ${openStore};
  const client = await createClient({ transport, store, provider });
  const orgId = await client.createOrganization({ name: "Acme", access: "on-request" });
  say(\`organization \${orgId} on \${descriptionTopic(provider.ed25519KeyPair().publicKey)}\`);
  say(\`an empty log has \${new OrgLog({ organizationId: orgId }).state.members.size} members\`);
  await client.close();
});
`;
}

/**
 * `vite.config.mjs`: a plain build of index.html, with a plugin that records into
 * `node-builtins.json` every import of a Node built-in that reaches the browser graph (Vite would
 * swap it for an empty stub and only warn), unless the importing package maps it away in its
 * `browser` field.
 * @param checksUrl - the file URL of `scripts/consumers/checks.mjs`
 * @returns the file's text
 */
export function viteConfig(checksUrl) {
  return `import { readFileSync, existsSync } from "node:fs";
import { writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join } from "node:path";
import { defineConfig } from "vite";
import { browserStubs } from ${JSON.stringify(checksUrl)};

/** The package.json of the package that holds \`file\`. */
function manifestOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, "utf8"));
      if (manifest.name !== undefined) return manifest;
    }
  }
  return undefined;
}

const found = [];
export default defineConfig({
  root: "web",
  logLevel: "warn",
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 100000 },
  plugins: [
    {
      name: "orgchat-no-node-builtins",
      enforce: "pre",
      resolveId(source, importer) {
        if (!isBuiltin(source)) return null;
        if (importer !== undefined && browserStubs(manifestOf(importer), source)) return null;
        found.push({ source, importer: importer ?? "(entry)" });
        return null;
      },
      buildEnd() {
        writeFileSync("node-builtins.json", JSON.stringify(found, null, 2));
      },
    },
  ],
});
`;
}
