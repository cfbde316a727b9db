import type { Element, Nodes, Root } from 'hast';

/**
 * Markdown from models is untrusted. react-markdown never renders raw HTML
 * (it is dropped, not parsed), and on top of that:
 *  - every URL goes through `safeUrl` (links: only http, https, mailto and relative
 *    URLs; images: only relative URLs, i.e. this hub's own files),
 *  - `rehypeHarden` turns images on other hosts into links, and removes dangerous
 *    elements and every event-handler / style property from the tree before it
 *    becomes React elements.
 */
const SAFE_HREF_SCHEMES = new Set(['http', 'https', 'mailto']);
const SAFE_SRC_SCHEMES = new Set<string>();

// Control characters and whitespace that browsers ignore inside a scheme ("java\tscript:").
// eslint-disable-next-line no-control-regex
const IGNORED_IN_SCHEME = /[\u0000-\u0020\u007f-\u009f\u200b-\u200d\ufeff]/g;

export function safeUrl(url: string | null | undefined, kind: 'href' | 'src' = 'href'): string {
  if (!url) return '';
  const compact = url.replace(IGNORED_IN_SCHEME, '');
  const colon = compact.indexOf(':');
  const firstDelimiter = compact.search(/[/?#]/);
  const hasScheme = colon > 0 && (firstDelimiter === -1 || colon < firstDelimiter);
  if (!hasScheme) {
    // Relative URL. A protocol-relative "//host" is treated like an absolute one.
    if (compact.startsWith('//')) return kind === 'src' ? '' : url.trim();
    return url.trim();
  }
  const scheme = compact.slice(0, colon).toLowerCase();
  const allowed = kind === 'src' ? SAFE_SRC_SCHEMES : SAFE_HREF_SCHEMES;
  return allowed.has(scheme) ? url.trim() : '';
}

/** Elements that never belong in a chat answer, even if something produced them. */
const BLOCKED_ELEMENTS = new Set([
  'script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base',
  'link', 'meta', 'form', 'button', 'textarea', 'select', 'option', 'svg', 'math',
  'template', 'noscript', 'portal', 'audio', 'video', 'source', 'track', 'title', 'head',
]);

const URL_PROPERTIES: Record<string, 'href' | 'src'> = {
  href: 'href',
  src: 'src',
  cite: 'href',
  action: 'href',
  formAction: 'href',
  poster: 'src',
  srcSet: 'src',
  xLinkHref: 'href',
};

function hardenElement(el: Element): void {
  for (const name of Object.keys(el.properties)) {
    const lower = name.toLowerCase();
    if (lower.startsWith('on') || lower === 'style' || lower === 'srcdoc') {
      delete el.properties[name];
      continue;
    }
    const kind = URL_PROPERTIES[name];
    if (kind) {
      const value = el.properties[name];
      const cleaned = safeUrl(typeof value === 'string' ? value : String(value ?? ''), kind);
      if (cleaned) el.properties[name] = cleaned;
      else delete el.properties[name];
    }
  }
  // GFM task lists render disabled checkboxes; no other inputs are allowed.
  if (el.tagName === 'input') {
    el.properties = { type: 'checkbox', checked: !!el.properties.checked, disabled: true };
  }
}

/**
 * An image on another host is not loaded: the request alone would tell that host the answer
 * was read, and its URL can carry whatever the model was made to put there (how a
 * prompt-injected answer leaks a conversation). The CSP refuses it as well. It becomes a
 * link the reader may choose to open.
 */
function remoteImageAsLink(el: Element): Element {
  const src = typeof el.properties.src === 'string' ? el.properties.src : '';
  const href = safeUrl(src, 'href');
  if (!src || safeUrl(src, 'src') || !/^(https?:)?\/\//i.test(href.replace(IGNORED_IN_SCHEME, ''))) return el;
  const alt = typeof el.properties.alt === 'string' && el.properties.alt ? el.properties.alt : href;
  return { type: 'element', tagName: 'a', properties: { href }, children: [{ type: 'text', value: alt }] };
}

function harden(node: Nodes): void {
  if (!('children' in node)) return;
  node.children = node.children.map((child) =>
    child.type === 'element' && child.tagName === 'img' ? remoteImageAsLink(child) : child,
  ) as typeof node.children;
  node.children = node.children.filter((child) => {
    if (child.type === 'raw') return false;
    if (child.type === 'element') {
      if (BLOCKED_ELEMENTS.has(child.tagName.toLowerCase())) return false;
      if (child.tagName === 'input' && child.properties.type !== 'checkbox') return false;
      hardenElement(child);
    }
    return true;
  }) as typeof node.children;
  for (const child of node.children) harden(child as Nodes);
}

/** Rehype plugin: run last, right before the tree becomes React elements. */
export function rehypeHarden() {
  return (tree: Root) => {
    harden(tree);
  };
}

/** Plain text of a hast subtree (used for code blocks and copy). */
export function hastText(node: Nodes): string {
  if (node.type === 'text') return node.value;
  if ('children' in node) return node.children.map((c) => hastText(c as Nodes)).join('');
  return '';
}
