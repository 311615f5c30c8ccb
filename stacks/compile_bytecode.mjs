// Compiles a directory of Python sources to bytecode for the Lambda runtime's CPython, offline.
//
// The compiler is pyodide (the npm package pinned in package.json): CPython compiled to
// WebAssembly, run here under Node. A .pyc depends on the CPython minor version (its magic
// number), never on the CPU or OS, so its output is valid for Lambda's python3.12 on arm64.
// Nothing is fetched: pyodide loads from node_modules/pyodide and no package is loaded.
// stacks/packaging.py runs this script and refuses a compiler of another minor version.
//
//   node compile_bytecode.mjs DIR RUNTIME_DIR INVALIDATION
//     compileall over DIR: hash-based pycs (valid after Lambda's unzip changes mtimes);
//     INVALIDATION is checked-hash (never used if the source beside them differs) or
//     unchecked-hash (trusted without reading the source: for content nobody can edit), compiled
//     as if DIR were RUNTIME_DIR (/var/task, /opt/python), the path the file has on Lambda.
//
// The last stdout line is one JSON object ({"python": "3.12.7", "magic": "cb0d0d0a",
// "pyodide": "0.27.8", ...}: packaging checks the Python and that the installed pyodide is the
// pinned one). Python's own output goes to stderr, with DIR in place of the mount point.
// Exit status 1 if any file failed or has no pyc.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const MOUNT = "/mnt/tree";

const COMPILE = `
import compileall, importlib.util, json, os, platform, py_compile
ok = compileall.compile_dir(
    MOUNT, ddir=RUNTIME_DIR, force=True, quiet=1, workers=1,
    invalidation_mode=py_compile.PycInvalidationMode[INVALIDATION.upper().replace("-", "_")],
)
sources = [os.path.join(d, f) for d, _, fs in os.walk(MOUNT) for f in fs if f.endswith(".py")]
missing = sorted(
    os.path.relpath(s, MOUNT) for s in sources if not os.path.exists(importlib.util.cache_from_source(s))
)
json.dumps({
    "python": platform.python_version(), "magic": importlib.util.MAGIC_NUMBER.hex(),
    "ok": bool(ok) and not missing, "compiled": len(sources) - len(missing), "missing": missing,
})
`;


function fail(message) {
  process.stderr.write(`compile_bytecode: ${message}\n`);
  process.exit(1);
}

const INVALIDATION_MODES = ["checked-hash", "unchecked-hash"];
const [directory, runtimeDir, invalidation] = process.argv.slice(2);
if (!(directory && runtimeDir && INVALIDATION_MODES.includes(invalidation))) {
  fail(`usage: compile_bytecode.mjs DIR RUNTIME_DIR ${INVALIDATION_MODES.join("|")}`);
}
if (!existsSync(directory)) fail(`no such directory: ${directory}`);

const here = path.dirname(fileURLToPath(import.meta.url));
const pyodideDir = path.resolve(here, "..", "node_modules", "pyodide");
if (!existsSync(path.join(pyodideDir, "pyodide.mjs"))) {
  fail(`pyodide is not installed at ${pyodideDir}: run \`make dev\` (npm ci from package-lock.json)`);
}

const { loadPyodide } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
// indexURL: the package folder, so the wasm, the stdlib zip and the lock are read from disk.
const pyodide = await loadPyodide({ indexURL: pyodideDir + path.sep });
// compileall names files by their mount path: name the directory the caller gave instead.
const hostDir = path.resolve(directory);
const toStderr = { batched: (line) => process.stderr.write(`${line.split(MOUNT).join(hostDir)}\n`) };
pyodide.setStdout(toStderr);
pyodide.setStderr(toStderr);
pyodide.FS.mkdirTree(MOUNT);
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: hostDir }, MOUNT);

const scope = pyodide.toPy({ MOUNT, RUNTIME_DIR: runtimeDir, INVALIDATION: invalidation });
const parsed = JSON.parse(pyodide.runPython(COMPILE, { globals: scope }));
parsed.pyodide = pyodide.version;
process.stdout.write(`${JSON.stringify(parsed)}\n`);
if (!parsed.ok) {
  const missing = parsed.missing.length ? `; no pyc for: ${parsed.missing.join(", ")}` : "";
  fail(`compiling ${directory} failed (errors above)${missing}`);
}
