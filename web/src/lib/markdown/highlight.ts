/**
 * Syntax highlighting, loaded on demand (dynamic import) so it stays out of the
 * initial bundle. lowlight turns code into a hast tree of <span>s; the tree is
 * converted to React elements, so no HTML string is ever injected.
 */
import type { Root } from 'hast';
import { createLowlight } from 'lowlight';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import kotlin from 'highlight.js/lib/languages/kotlin';
import markdown from 'highlight.js/lib/languages/markdown';
import php from 'highlight.js/lib/languages/php';
import plaintext from 'highlight.js/lib/languages/plaintext';
import python from 'highlight.js/lib/languages/python';
import ruby from 'highlight.js/lib/languages/ruby';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import swift from 'highlight.js/lib/languages/swift';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

const lowlight = createLowlight({
  bash, c, cpp, csharp, css, diff, go, java, javascript, json, kotlin, markdown, php,
  plaintext, python, ruby, rust, shell, sql, swift, typescript, xml, yaml,
});

const MAX_AUTO_DETECT = 4000;

/** Highlights `code`; `language` may be empty or unknown (then auto-detect, for short code). */
export function highlight(code: string, language: string | undefined): Root {
  const lang = language?.toLowerCase();
  if (lang && lowlight.registered(lang)) return lowlight.highlight(lang, code);
  if (code.length <= MAX_AUTO_DETECT) return lowlight.highlightAuto(code);
  return { type: 'root', children: [{ type: 'text', value: code }] };
}
