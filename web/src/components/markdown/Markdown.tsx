import { memo, type ComponentPropsWithoutRef } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { hastText, rehypeHarden, safeUrl } from '../../lib/markdown/sanitize';
import { CodeBlock } from './CodeBlock';
import styles from './Markdown.module.css';

function Link({ node: _node, href, children, ...rest }: ComponentPropsWithoutRef<'a'> & { node?: unknown }) {
  const url = safeUrl(href);
  if (!url) return <span>{children}</span>;
  const external = /^(https?:)?\/\//i.test(url) || url.startsWith('mailto:');
  return (
    <a {...rest} href={url} {...(external ? { target: '_blank', rel: 'noopener noreferrer nofollow' } : {})}>
      {children}
    </a>
  );
}

function Image({ node: _node, src, alt, title }: ComponentPropsWithoutRef<'img'> & { node?: unknown }) {
  const url = safeUrl(typeof src === 'string' ? src : '', 'src');
  if (!url) return alt ? <span>{alt}</span> : null;
  return <img src={url} alt={alt ?? ''} title={title} loading="lazy" referrerPolicy="no-referrer" />;
}

const components: Components = {
  a: Link,
  img: Image,
  pre({ node }) {
    const code = node?.children.find((c) => c.type === 'element' && c.tagName === 'code');
    const classes = code && code.type === 'element' ? code.properties.className : undefined;
    const list = Array.isArray(classes) ? classes.map(String) : [];
    const language = list.find((c) => c.startsWith('language-'))?.slice('language-'.length);
    const text = code ? hastText(code) : node ? hastText(node) : '';
    return <CodeBlock code={text.replace(/\n$/, '')} language={language} />;
  },
  table({ node: _node, ...props }) {
    return (
      <div className={styles.tableWrap}>
        <table {...props} />
      </div>
    );
  },
};

export interface MarkdownProps {
  children: string;
}

/** Renders untrusted Markdown (model output) safely. */
export const Markdown = memo(function Markdown({ children }: MarkdownProps) {
  return (
    <div className={styles.markdown}>
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[rehypeHarden]}
        skipHtml
        urlTransform={(url, key) => safeUrl(url, key === 'src' ? 'src' : 'href')}
        components={components}
      >
        {children}
      </ReactMarkdown>
    </div>
  );
});
