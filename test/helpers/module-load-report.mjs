// Records the module files and Node builtins a process loads, for the test that keeps
// `codex-lab list` lean (test/integration/cli-start.test.ts). Loaded with `--import`; when the
// process exits it writes `{ files, builtins }` as JSON to the file named by
// CODEX_LAB_TEST_MODULE_REPORT. Builtins are taken through process.getBuiltinModule, not imported:
// an import of node:fs would itself load fs streams and spoil the report.
const { registerHooks } = process.getBuiltinModule('node:module');
const { writeFileSync } = process.getBuiltinModule('node:fs');

const files = [];
registerHooks({
  load(url, context, next) {
    if (url.startsWith('file:')) files.push(url);
    return next(url, context);
  },
});
process.on('exit', () => {
  const builtins = process.moduleLoadList
    .filter((entry) => entry.startsWith('NativeModule '))
    .map((entry) => entry.slice('NativeModule '.length));
  writeFileSync(process.env.CODEX_LAB_TEST_MODULE_REPORT, JSON.stringify({ files, builtins }));
});
