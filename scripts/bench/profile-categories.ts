// The categories of `byCategory` (profile.ts) for each .cpuprofile named, as a Markdown table: what
// BENCHMARKS.md's profile tables are made of.
//   npx tsx scripts/bench/profile-categories.ts [--window 5500] bench-results/profiles/*.cpuprofile
import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import { CATEGORY_NAMES, byCategory } from './profile.js'

const { values, positionals } = parseArgs({
  options: { window: { type: 'string', default: '5500' } },
  allowPositionals: true,
})
console.log(`| Profile | ${CATEGORY_NAMES.join(' | ')} |`)
console.log(`| --- |${CATEGORY_NAMES.map(() => ' ---: |').join('')}`)
for (const file of positionals) {
  const shares = byCategory(file, Number(values.window))
  const cells = CATEGORY_NAMES.map((name) => `${(shares[name] * 100).toFixed(1)}%`)
  console.log(`| ${basename(file, '.cpuprofile')} | ${cells.join(' | ')} |`)
}
