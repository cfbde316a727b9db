import { useEffect, useState } from 'react';
import type { Root } from 'hast';
import { toJsxRuntime } from 'hast-util-to-jsx-runtime';
import { Fragment, jsx, jsxs } from 'react/jsx-runtime';
import { Typography } from 'antd';
import { CopyButton } from '../CopyButton';
import styles from './Markdown.module.css';

type Highlighter = typeof import('../../lib/markdown/highlight');
let highlighter: Promise<Highlighter> | null = null;
function loadHighlighter(): Promise<Highlighter> {
  highlighter ??= import('../../lib/markdown/highlight');
  return highlighter;
}

export interface CodeBlockProps {
  code: string;
  language?: string;
}

export function CodeBlock({ code, language }: CodeBlockProps) {
  const [tree, setTree] = useState<{ code: string; root: Root } | null>(null);

  useEffect(() => {
    let live = true;
    loadHighlighter()
      .then((m) => {
        if (live) setTree({ code, root: m.highlight(code, language) });
      })
      .catch(() => undefined); // plain text stays on screen
    return () => {
      live = false;
    };
  }, [code, language]);

  // Keep the previous highlighting while a streaming block grows, to avoid flicker.
  const body = tree ? toJsxRuntime(tree.root, { Fragment, jsx, jsxs }) : code;
  const tail = tree && code.startsWith(tree.code) ? code.slice(tree.code.length) : '';
  const stale = tree && !code.startsWith(tree.code);

  return (
    <div className={styles.codeBlock}>
      <div className={styles.codeHeader}>
        <Typography.Text type="secondary" className={styles.codeLang}>
          {language || 'text'}
        </Typography.Text>
        <CopyButton text={code} size="small" />
      </div>
      <pre className={styles.pre}>
        <code className={`hljs${language ? ` language-${language}` : ''}`}>
          {stale ? code : body}
          {stale ? null : tail}
        </code>
      </pre>
    </div>
  );
}
