/**
 * The version of Codex Lab, from package.json: bundled into the CLI by esbuild, read by Node's
 * type stripping in a source checkout. A leaf: every surface (`--version`, the router's identity
 * answer, the desktop app) may import it.
 */
import packageJson from '../package.json' with { type: 'json' };

/** The version string, e.g. `0.1.0`. */
export const labVersion: string = packageJson.version;
