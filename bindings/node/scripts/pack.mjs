#!/usr/bin/env node
// The three npm tarballs of this package, as `napi prepublish` would publish them:
//   goldplan-<v>.tgz                        the facade (JS, types), no addon; its manifest names
//                                           the platform package of the same version as an
//                                           optional dependency (the checked-in one does not, so
//                                           that a checkout never fetches it from a registry);
//   goldplan-linux-x64-gnu-<v>.tgz          the production addon;
//   goldplan-testing-linux-x64-gnu-<v>.tgz  the sandbox addon behind goldplan/testing.
// Usage: node scripts/pack.mjs DEST  (the addons are taken from this folder, as scripts/build.sh
// leaves them). Prints the tarballs' paths as a JSON array, the facade first.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const LICENSES = ['LICENSE-MIT', 'LICENSE-APACHE'].map((f) => path.join(PKG, '..', '..', f))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** The platform packages: their folder under npm/ and the addon each carries. */
export const PLATFORM_PACKAGES = [
  ['linux-x64-gnu', 'goldplan.linux-x64-gnu.node'],
  ['testing-linux-x64-gnu', 'goldplan.testing.linux-x64-gnu.node']
]

function npmPack (dir, dest) {
  const out = execFileSync(npm, ['pack', '--silent', '--pack-destination', dest], { cwd: dir, encoding: 'utf8' })
  return path.join(dest, out.trim().split('\n').pop())
}

/** Packs the three tarballs into `dest`; returns their paths, the facade first. */
export function packAll (dest) {
  mkdirSync(dest, { recursive: true })
  const stages = mkdtempSync(path.join(dest, '.stage-'))
  try {
    const manifest = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8'))
    const tarballs = []
    for (const [dir, addon] of PLATFORM_PACKAGES) {
      const stage = path.join(stages, dir)
      cpSync(path.join(PKG, 'npm', dir), stage, { recursive: true })
      cpSync(path.join(PKG, addon), path.join(stage, addon))
      for (const f of LICENSES) cpSync(f, path.join(stage, path.basename(f)))
      tarballs.push(npmPack(stage, dest))
    }
    const stage = path.join(stages, 'goldplan')
    for (const f of ['package.json', ...manifest.files]) cpSync(path.join(PKG, f), path.join(stage, f))
    for (const f of LICENSES) cpSync(f, path.join(stage, path.basename(f)))
    manifest.optionalDependencies = { 'goldplan-linux-x64-gnu': manifest.version }
    // What builds this package is not part of it: the build tools, their scripts and the
    // overrides that keep those tools' dependencies on Node 20.
    delete manifest.devDependencies
    delete manifest.scripts
    delete manifest.overrides
    writeFileSync(path.join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
    tarballs.unshift(npmPack(stage, dest))
    return tarballs
  } finally {
    rmSync(stages, { recursive: true, force: true })
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dest = process.argv[2]
  if (!dest) {
    console.error('usage: node scripts/pack.mjs DEST')
    process.exit(2)
  }
  console.log(JSON.stringify(packAll(path.resolve(dest))))
}
