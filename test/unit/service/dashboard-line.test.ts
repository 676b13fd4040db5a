/**
 * What `codex-lab serve` says about its dashboard (`dashboardLine`, docs/security.md): the link
 * with the router token only when asked (`--print-dashboard-url`, on stdout); otherwise, whether
 * the output is a terminal or a log, the address without the token and the command that opens it.
 */
import { describe, expect, it } from 'vitest';
import { dashboardLine } from '../../../core/cli/commands/serve.ts';

const token = 'clab_planted-router-token';

describe('dashboardLine', () => {
  it('prints the link with the token on stdout only when asked', () => {
    expect(dashboardLine('http://127.0.0.1:1456', token, true, true)).toEqual({
      stream: 'stdout',
      text: `Dashboard: http://127.0.0.1:1456/ui/#token=${token}`,
    });
  });

  it('otherwise names the address and how to open it, without the token', () => {
    const line = dashboardLine('http://127.0.0.1:1456', token, false, true);
    expect(line).toEqual({
      stream: 'stderr',
      text: 'Dashboard: http://127.0.0.1:1456/ui/ (codex-lab dashboard opens it with the token)',
    });
    expect(line.text).not.toContain(token);
    expect(line.text).not.toContain('#token');
  });

  it('names no link when the dashboard is not built, only the command that builds it', () => {
    for (const asked of [true, false]) {
      const line = dashboardLine('http://127.0.0.1:1456', token, asked, false);
      expect(line).toEqual({
        stream: 'stderr',
        text: 'Dashboard: not built (npm run build:renderer builds it)',
      });
    }
  });
});
