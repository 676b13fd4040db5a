/**
 * The Codex setup snippet (`LabState.codexConfig`, which carries no token) with a copy button, and
 * how to put it in: `codex-lab codex-config --write`, or by hand with its top-level lines first
 * (appended after a table they would belong to it).
 */
import { useRef, useState } from 'react';

/** Props of `CodexSetup`. */
export interface CodexSetupProps {
  config: string;
}

/** The snippet card. */
export function CodexSetup({ config }: CodexSetupProps) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'select'>('idle');
  const block = useRef<HTMLPreElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(config);
      setCopied('copied');
    } catch {
      // No clipboard permission (e.g. plain http page): select the text so Ctrl+C works.
      const node = block.current;
      const selection = window.getSelection();
      if (node && selection) {
        const range = document.createRange();
        range.selectNodeContents(node);
        selection.removeAllRanges();
        selection.addRange(range);
      }
      setCopied('select');
    }
    window.setTimeout(() => setCopied('idle'), 2500);
  };
  return (
    <section className="card" aria-labelledby="setup-title">
      <div className="section-head">
        <h2 id="setup-title">Use Codex through Codex Lab</h2>
        <button
          type="button"
          className="button"
          onClick={() => void copy()}
          aria-label="Copy Codex setup"
        >
          {copied === 'copied' ? 'Copied' : copied === 'select' ? 'Press Ctrl+C' : 'Copy'}
        </button>
      </div>
      <p className="muted small">
        Run <code>codex-lab codex-config --write</code> to add this to Codex&apos;s{' '}
        <code>~/.codex/config.toml</code> (<code>--remove</code> undoes it). To paste it by hand,
        put its first lines at the top of the file, before any <code>[table]</code>: appended after
        one, Codex quietly skips Codex Lab. For a one-off, run <code>codex-lab codex</code>.
      </p>
      <pre ref={block} className="snippet" aria-label="Codex setup snippet" tabIndex={0}>
        {config.trim() === ''
          ? '# Run `codex-lab codex-config` to print the provider block.'
          : config}
      </pre>
    </section>
  );
}
