import { render, waitFor } from '@testing-library/react';
import type { Root } from 'hast';
import { describe, expect, it } from 'vitest';
import { Markdown } from '../../components/markdown/Markdown';
import { rehypeHarden, safeUrl } from './sanitize';

function html(markdown: string): HTMLElement {
  const { container } = render(<Markdown>{markdown}</Markdown>);
  return container;
}

function everyAttribute(root: HTMLElement): string[] {
  const out: string[] = [];
  root.querySelectorAll('*').forEach((el) => {
    for (const a of Array.from(el.attributes)) out.push(`${a.name}=${a.value}`);
  });
  return out;
}

describe('safeUrl', () => {
  it('keeps http, https, mailto and relative URLs', () => {
    expect(safeUrl('https://example.com/a?b#c')).toBe('https://example.com/a?b#c');
    expect(safeUrl('http://example.com')).toBe('http://example.com');
    expect(safeUrl('mailto:a@example.com')).toBe('mailto:a@example.com');
    expect(safeUrl('/docs/x')).toBe('/docs/x');
    expect(safeUrl('#section')).toBe('#section');
    expect(safeUrl('page?x=a:b')).toBe('page?x=a:b');
  });

  it('drops script-capable and unknown schemes, however they are disguised', () => {
    for (const bad of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      '\u0000javascript:alert(1)',
      'jav\u200bascript:alert(1)',
      'vbscript:msgbox(1)',
      'data:text/html,<script>alert(1)</script>',
      'file:///etc/passwd',
    ]) {
      expect(safeUrl(bad), bad).toBe('');
    }
  });

  it('allows only relative image sources (this hub\'s own files)', () => {
    expect(safeUrl('/api/v1/files/abc', 'src')).toBe('/api/v1/files/abc');
    expect(safeUrl('https://img.example.com/a.png', 'src')).toBe('');
    expect(safeUrl('http://img.example.com/a.png', 'src')).toBe('');
    expect(safeUrl('data:image/svg+xml,<svg onload=alert(1)>', 'src')).toBe('');
    expect(safeUrl('//evil.example/a.png', 'src')).toBe('');
  });
});

describe('Markdown rendering of untrusted text', () => {
  it('renders ordinary Markdown', () => {
    const root = html('# Title\n\nSome **bold** and a [link](https://example.com).');
    expect(root.querySelector('h1')?.textContent).toBe('Title');
    expect(root.querySelector('strong')?.textContent).toBe('bold');
    const a = root.querySelector('a')!;
    expect(a.getAttribute('href')).toBe('https://example.com');
    expect(a.getAttribute('rel')).toContain('noopener');
    expect(a.getAttribute('target')).toBe('_blank');
  });

  it('never puts <script> tags in the DOM', () => {
    const root = html('Hello <script>window.__pwned = 1</script> world\n\n<script src="https://evil.example/x.js"></script>');
    expect(root.querySelector('script')).toBeNull();
    expect(root.innerHTML).not.toMatch(/<script/i);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('removes javascript: links in every Markdown link form', () => {
    const root = html(
      [
        '[inline](javascript:alert(1))',
        '[ref][r]',
        '<javascript:alert(2)>',
        '[encoded](jav&#x09;ascript:alert(3))',
        '[upper](JAVASCRIPT:alert(4))',
        '',
        '[r]: javascript:alert(5)',
      ].join('\n\n'),
    );
    root.querySelectorAll('a').forEach((a) => {
      expect(a.getAttribute('href') ?? '').not.toMatch(/script:/i);
    });
    expect(everyAttribute(root).join(' ')).not.toMatch(/javascript:/i);
  });

  it('strips onerror and other event-handler attributes from raw HTML', () => {
    const root = html(
      [
        '<img src="x" onerror="window.__pwned = 2">',
        '<a href="https://example.com" onclick="alert(1)">click</a>',
        '<div onmouseover="alert(1)" style="position:fixed">hover</div>',
        '<svg onload="alert(1)"></svg>',
        '<iframe src="https://evil.example"></iframe>',
      ].join('\n\n'),
    );
    const attrs = everyAttribute(root).join(' ');
    expect(attrs).not.toMatch(/\bon[a-z]+=/i);
    expect(root.querySelector('img[onerror], iframe, svg, [style]')).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('loads images only from this hub; those on other hosts become links, script URLs text', () => {
    const root = html(
      '![a](javascript:alert(1)) ![b](data:image/png;base64,AAAA) ![c](http://x.example/c.png) ' +
        '![d](https://x.example/d.png?leak=1) ![](//x.example/e.png) ![f](/api/v1/files/f)',
    );
    const srcs = Array.from(root.querySelectorAll('img')).map((i) => i.getAttribute('src'));
    expect(srcs).toEqual(['/api/v1/files/f']);
    const links = Array.from(root.querySelectorAll('a')).map((a) => [a.textContent, a.getAttribute('href'), a.getAttribute('rel')]);
    expect(links).toEqual([
      ['c', 'http://x.example/c.png', 'noopener noreferrer nofollow'],
      ['d', 'https://x.example/d.png?leak=1', 'noopener noreferrer nofollow'],
      ['//x.example/e.png', '//x.example/e.png', 'noopener noreferrer nofollow'],
    ]);
    expect(root.textContent).toContain('a');
    expect(everyAttribute(root).join(' ')).not.toMatch(/javascript:|data:/i);
  });

  it('renders code blocks as text with a copy button, then highlights them', async () => {
    const root = html('```js\nconst a = "<img src=x onerror=alert(1)>";\n```');
    expect(root.querySelector('pre code')?.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(root.querySelector('button[aria-label]')).not.toBeNull();
    await waitFor(() => expect(root.querySelector('pre code span.hljs-keyword')).not.toBeNull());
    expect(root.querySelector('pre img')).toBeNull();
    expect(everyAttribute(root).join(' ')).not.toMatch(/onerror=/i);
  });
});

describe('rehypeHarden', () => {
  it('removes dangerous elements and handler properties from any tree it is given', () => {
    const tree: Root = {
      type: 'root',
      children: [
        { type: 'element', tagName: 'script', properties: {}, children: [{ type: 'text', value: 'alert(1)' }] },
        {
          type: 'element',
          tagName: 'img',
          properties: { src: 'javascript:alert(1)', onError: 'alert(1)', style: 'x' },
          children: [],
        },
        {
          type: 'element',
          tagName: 'p',
          properties: { onClick: 'alert(1)' },
          children: [
            { type: 'element', tagName: 'a', properties: { href: 'javascript:alert(1)' }, children: [] },
            { type: 'element', tagName: 'iframe', properties: { src: 'https://x' }, children: [] },
            { type: 'raw', value: '<b onmouseover=alert(1)>x</b>' } as never,
          ],
        },
      ],
    };
    rehypeHarden()(tree);
    expect(JSON.stringify(tree)).not.toMatch(/script|onError|onClick|iframe|onmouseover|style/);
    expect(tree.children).toHaveLength(2);
  });
});
