// The web client's bundle for tests that serve it: built by scripts/build-web.ts once per version
// of its inputs into the temporary directory, and shared by every test process of the run (two
// building at once each build their own copy; the first to rename it into place wins).
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildWeb, inputsHash } from '../scripts/build-web.js'

/** The directory of a bundle built from the current sources, for `webClientDir`. */
export async function webBundle(): Promise<string> {
  const dir = join(tmpdir(), `signal-web-client-${inputsHash().slice(0, 16)}`)
  if (existsSync(join(dir, 'index.html'))) return dir
  const building = mkdtempSync(`${dir}-building-`)
  await buildWeb(building, true)
  try {
    renameSync(building, dir)
  } catch {
    rmSync(building, { recursive: true, force: true }) // another process was first
  }
  return dir
}
