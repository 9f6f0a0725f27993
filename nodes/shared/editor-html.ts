/**
 * A node's editor file (nodes/<type>.html) may be put together from parts: a line that holds only
 * `<!-- include <path> -->` stands for the file at <path>, relative to the editor file (its parts
 * are in nodes/editor/<type>/). The build (scripts/build.mjs) writes each editor composed into
 * dist/nodes; the tests that read an editor's source read it composed as well. Parts do not
 * include others.
 *
 * A line `<!-- include-script <path> -->` stands for a module of lib/ compiled by the build
 * (`dist/<path>`, CommonJS without imports), in a script that sets `window.ampflow.<name>` (the
 * file's name in camelCase) to its exports: the editor runs the very code the runtime runs
 * (lib/config-versions.js: a saved setting upgraded to today's shape).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const INCLUDE = /^[ \t]*<!-- include ([\w./-]+) -->[ \t]*\r?\n/gm;

const INCLUDE_SCRIPT = /^[ \t]*<!-- include-script ([\w./-]+\.js) -->[ \t]*\r?\n/gm;

/**
 * The editor file at `file` with each include line replaced by its part; compiled modules are read
 * from `distDir` (default: the build's dist/ beside nodes/).
 */
export function composeEditorHtml(file: string, distDir = join(dirname(file), '..', 'dist')): string {
  const dir = dirname(file);
  return readFileSync(file, 'utf8')
    .replace(INCLUDE, (_line, part: string) => {
      const path = join(dir, part);
      try {
        return readFileSync(path, 'utf8');
      } catch (err) {
        throw new Error(`${file} includes ${part}, which cannot be read: ${(err as Error).message}`);
      }
    })
    .replace(INCLUDE_SCRIPT, (_line, module: string) => {
      const path = join(distDir, module);
      let code: string;
      try {
        code = readFileSync(path, 'utf8');
      } catch (err) {
        throw new Error(
          `${file} includes the compiled ${module}, which cannot be read (run \`npm run build\`): ${(err as Error).message}`,
        );
      }
      const name = (module.split('/').pop() ?? module)
        .replace(/\.js$/, '')
        .replace(/-(\w)/g, (_dash, letter: string) => letter.toUpperCase());
      const body = code.replace(/^\/\/# sourceMappingURL=.*$/m, '');
      // Several editors include the same module: the first one's runs, so its state is one.
      return `<script type="text/javascript">\n(function () {\nwindow.ampflow = window.ampflow || {};\nif (window.ampflow.${name}) return;\nvar module = { exports: {} };\nvar exports = module.exports;\n${body}\nwindow.ampflow.${name} = module.exports;\n})();\n</script>\n`;
    });
}
