// Bundles the web client (web/) with esbuild into <outDir> (default dist/web/): app/main-<hash>.js,
// app/style-<hash>.css, app/icon-<hash>.svg and index.html naming them, for plugins/web-client.ts
// to serve. The hash of everything the bundle is made from is kept beside it (inputs.sha256): when
// it has not changed, the build is skipped, so `npm start` does not wait for it.
//
//   tsx scripts/build-web.ts [outDir] [--force]
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
// Compiled, this file runs from dist/scripts/: the sources are still at the repository's root.
const repo = basename(dirname(root)) === 'dist' || basename(root) === 'dist' ? resolve(root, '..') : root

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  )

/** SHA-256 over the client's sources, the SDK it imports, the locked dependency versions and this script. */
export function inputsHash(): string {
  const hash = createHash('sha256')
  const inputs = [
    ...files(join(repo, 'web')).filter((f) => !f.endsWith('.md')),
    ...files(join(repo, 'sdk')).filter((f) => /\.ts$/.test(f) && !f.includes(`${join('sdk', 'dist')}`)),
    join(repo, 'package-lock.json'),
    join(repo, 'scripts', 'build-web.ts'),
  ].sort()
  for (const file of inputs) hash.update(relative(repo, file)).update('\0').update(readFileSync(file)).update('\0')
  return hash.digest('hex')
}

/** Builds the bundle into `outDir` unless the one there was built from the same inputs. Answers whether it built. */
export async function buildWeb(outDir: string, force = false): Promise<boolean> {
  const stamp = join(outDir, 'inputs.sha256')
  const hash = inputsHash()
  if (!force) {
    try {
      if (readFileSync(stamp, 'utf8') === hash) return false
    } catch {
      // no bundle yet
    }
  }
  // Loaded only when there is something to build: a start with nothing changed does not wait for it.
  const { build } = await import('esbuild')
  rmSync(join(outDir, 'app'), { recursive: true, force: true })
  mkdirSync(join(outDir, 'app'), { recursive: true })
  const result = await build({
    absWorkingDir: repo,
    entryPoints: ['web/main.tsx', 'web/style.css'],
    outdir: join(outDir, 'app'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: 'web/tsconfig.json',
    metafile: true,
    legalComments: 'eof',
    logLevel: 'warning',
  })
  const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f))
  const js = outputs.find((f) => /^main-.*\.js$/.test(f))
  const css = outputs.find((f) => /^style-.*\.css$/.test(f))
  if (!js || !css) throw new Error(`esbuild made ${outputs.join(', ')}: no main-*.js or style-*.css`)
  // The icon is copied under a name carrying its hash, like the rest (browsers ask for one anyway).
  const svg = readFileSync(join(repo, 'web', 'icon.svg'))
  const icon = `icon-${createHash('sha256').update(svg).digest('hex').slice(0, 8).toUpperCase()}.svg`
  writeFileSync(join(outDir, 'app', icon), svg)
  const html = readFileSync(join(repo, 'web', 'index.html'), 'utf8')
    .replace('{{js}}', js)
    .replace('{{css}}', css)
    .replace('{{icon}}', icon)
  writeFileSync(join(outDir, 'index.html'), html)
  writeFileSync(stamp, hash)
  return true
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const outDir = resolve(args.find((a) => !a.startsWith('--')) ?? join(repo, 'dist', 'web'))
  const started = performance.now()
  const built = await buildWeb(outDir, args.includes('--force'))
  const ms = Math.round(performance.now() - started)
  console.log(built ? `web client built into ${outDir} (${ms} ms)` : `web client unchanged (${ms} ms)`)
}
