// `npm pack` → install the tarballs into an empty project (offline) → use the package from ESM
// and CommonJS, with goldplan/testing from its separate sandbox package.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PKG } from './helpers.mjs'

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function pack (dir, dest) {
  const out = execFileSync(npm, ['pack', '--silent', '--pack-destination', dest], { cwd: dir, encoding: 'utf8' })
  return path.join(dest, out.trim().split('\n').pop())
}

test('the packed tarballs install into an empty project and work from ESM and CJS', (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'goldplan-pack-'))
  // Debug addons make this a few hundred megabytes: never leave it behind.
  t.after(() => rmSync(work, { recursive: true, force: true }))
  const tarballs = []
  for (const [dir, addon] of [['linux-x64-gnu', 'goldplan.linux-x64-gnu.node'], ['testing-linux-x64-gnu', 'goldplan.testing.linux-x64-gnu.node']]) {
    const stage = path.join(work, dir)
    cpSync(path.join(PKG, 'npm', dir), stage, { recursive: true })
    cpSync(path.join(PKG, addon), path.join(stage, addon))
    tarballs.push(pack(stage, work))
  }
  // As `napi prepublish` does: the published package.json names the platform package as an
  // optional dependency (the checked-in one does not, so a checkout never fetches it).
  const stage = path.join(work, 'goldplan')
  const manifest = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8'))
  for (const f of ['package.json', ...manifest.files]) cpSync(path.join(PKG, f), path.join(stage, f))
  manifest.optionalDependencies = { 'goldplan-linux-x64-gnu': manifest.version }
  delete manifest.devDependencies
  writeFileSync(path.join(stage, 'package.json'), JSON.stringify(manifest, null, 2))
  const main = pack(stage, work)
  tarballs.unshift(main)
  const listing = execFileSync('tar', ['-tzf', main], { encoding: 'utf8' })
  assert.ok(!listing.includes('.node'), 'the main package carries no addon')
  assert.ok(!listing.includes('__test__') && !listing.includes('src/'), listing)
  // The production addon leaves the sandbox out, so it is the smaller one.
  const size = (f) => statSync(path.join(PKG, f)).size
  assert.ok(size('goldplan.linux-x64-gnu.node') < size('goldplan.testing.linux-x64-gnu.node'))

  const app = path.join(work, 'app')
  execFileSync('mkdir', ['-p', app])
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs], { cwd: app, encoding: 'utf8' })
  assert.deepEqual(readdirSync(path.join(app, 'node_modules')).filter((n) => n.startsWith('goldplan')).sort(),
    ['goldplan', 'goldplan-linux-x64-gnu', 'goldplan-testing-linux-x64-gnu'])

  writeFileSync(path.join(app, 'esm.mjs'), `
    import { Client, GoldPlanError, ApiError } from 'goldplan'
    import { Sandbox } from 'goldplan/testing'
    import cjs from 'goldplan'
    const sandbox = await Sandbox.start({ mode: 'public_key' })
    const client = sandbox.client()
    const r = await client.changeGoldPlanStatus('1900000109', 'OPEN', 'JSAPI')
    const e = await client.changeGoldPlanStatus('1900000109', 'MAYBE').then(() => 'resolved', (e) => e)
    const native = JSON.parse(cjs._internal.native.nativeConstants())
    console.log(JSON.stringify({ sub: r.data.sub_mchid, same: cjs.Client === Client, typed: e instanceof GoldPlanError, hasSandbox: native.hasSandbox }))
    await sandbox.stop()
  `)
  writeFileSync(path.join(app, 'cjs.cjs'), `
    const { Client, InvalidInputError } = require('goldplan')
    const { Sandbox } = require('goldplan/testing')
    Sandbox.start().then(async (sandbox) => {
      const client = new Client({
        mchid: sandbox.info.mchid, serialNo: sandbox.info.serial_no, privateKey: sandbox.info.private_key_pem,
        apiv3Key: sandbox.info.apiv3_key, baseUrl: sandbox.baseUrl
      })
      const r = await client.changeGoldPlanStatus('1900000109', 'OPEN')
      const bad = await client.closeAdvertisingShow(42).catch((e) => e instanceof InvalidInputError)
      console.log(JSON.stringify({ data: r.data, bad }))
      await sandbox.stop()
    })
  `)
  const esm = spawnSync(process.execPath, ['esm.mjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 })
  assert.equal(esm.status, 0, esm.stderr)
  assert.deepEqual(JSON.parse(esm.stdout), { sub: '1900000109', same: true, typed: true, hasSandbox: false })
  const cjs = spawnSync(process.execPath, ['cjs.cjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 })
  assert.equal(cjs.status, 0, cjs.stderr)
  assert.deepEqual(JSON.parse(cjs.stdout), { data: { sub_mchid: '1900000109' }, bad: true })
})
