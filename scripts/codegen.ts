// Regenerates sdk/schema.d.ts (the TypeScript types of every path, operation and schema) from
// openapi.yaml. With --check it writes nothing and exits 1
// when the committed file is stale, so CI catches a spec change without regenerated types.
import { readFile, writeFile } from 'node:fs/promises'
import openapiTS, { astToString } from 'openapi-typescript'

const spec = new URL('../openapi.yaml', import.meta.url)
const target = new URL('../sdk/schema.d.ts', import.meta.url)
const header = `/**
 * DO NOT EDIT: generated from openapi.yaml by \`npm run codegen\`.
 * Change openapi.yaml and regenerate; \`npm test\` fails while this file is stale.
 */

`

const ast = await openapiTS(spec, { alphabetize: false, exportType: true })
const generated = header + astToString(ast)

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '')
  if (current !== generated) {
    console.error('sdk/schema.d.ts is stale: run `npm run codegen` and commit the result.')
    process.exit(1)
  }
  console.log('sdk/schema.d.ts is up to date with openapi.yaml.')
} else {
  await writeFile(target, generated)
  console.log('wrote sdk/schema.d.ts')
}
