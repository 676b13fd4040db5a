/**
 * The hosted CI workflow where the desktop app is really verified (`.github/workflows/desktop.yml`):
 * valid YAML, the three OS runners, and the steps in order: install (Electron's binary included),
 * the smoke test (under xvfb-run on Linux), `npm run make`, and the installers uploaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

const workflow = parse(readFileSync('.github/workflows/desktop.yml', 'utf8')) as {
  on: Record<string, unknown>;
  jobs: Record<
    string,
    { 'runs-on': string; strategy: { matrix: { os: string[] } }; steps: Step[] }
  >;
};
const job = workflow.jobs['desktop']!;
const steps = job.steps;
const indexOf = (predicate: (step: Step) => boolean) => steps.findIndex(predicate);

describe('.github/workflows/desktop.yml', () => {
  it('runs on Linux, macOS and Windows runners, on pushes and pull requests', () => {
    expect(job['runs-on']).toBe('${{ matrix.os }}');
    const runners = job.strategy.matrix.os;
    expect(runners).toHaveLength(3);
    expect(runners.some((os) => os.startsWith('ubuntu-'))).toBe(true);
    expect(runners.some((os) => os.startsWith('macos-'))).toBe(true);
    expect(runners.some((os) => os.startsWith('windows-'))).toBe(true);
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
  });

  it('installs, installs Electron, smoke-tests (xvfb-run on Linux), makes and uploads, in order', () => {
    const install = indexOf((step) => step.run === 'npm ci');
    const electron = indexOf((step) => step.run === 'npx install-electron');
    const smokeLinux = indexOf(
      (step) =>
        step.if === "runner.os == 'Linux'" &&
        /^xvfb-run .*test\/browser\/electron-smoke\.test\.ts$/.test(step.run ?? ''),
    );
    const smokeOthers = indexOf(
      (step) =>
        step.if === "runner.os != 'Linux'" &&
        /test\/browser\/electron-smoke\.test\.ts$/.test(step.run ?? ''),
    );
    const make = indexOf((step) => step.run === 'npm run make');
    const upload = indexOf((step) => step.uses?.startsWith('actions/upload-artifact@') ?? false);
    const order = [install, electron, smokeLinux, smokeOthers, make, upload];
    expect(
      order.every((index) => index >= 0),
      JSON.stringify(order),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(steps[upload]!.with).toMatchObject({ path: 'out/make/', 'if-no-files-found': 'error' });
    expect(existsSync('test/browser/electron-smoke.test.ts')).toBe(true);
  });

  it('fails instead of skipping when the runner has no Electron binary', () => {
    const check = indexOf((step) => /require\('electron'\)/.test(step.run ?? ''));
    const smoke = indexOf((step) => /electron-smoke/.test(step.run ?? ''));
    expect(check).toBeGreaterThan(-1);
    expect(check).toBeLessThan(smoke);
  });

  it('passes the signing secrets to make only (forge.config.ts skips signing without them)', () => {
    const make = steps.find((step) => step.run === 'npm run make')!;
    expect(Object.keys(make.env ?? {}).sort()).toEqual([
      'APPLE_APP_SPECIFIC_PASSWORD',
      'APPLE_ID',
      'APPLE_SIGNING_IDENTITY',
      'APPLE_TEAM_ID',
      'WINDOWS_CERTIFICATE_FILE',
      'WINDOWS_CERTIFICATE_PASSWORD',
    ]);
    for (const step of steps.filter((each) => each !== make)) expect(step.env).toBeUndefined();
  });
});
