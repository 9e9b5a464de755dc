// `npm pack` → install the tarballs into an empty project (offline) → use the package from ESM
// and CommonJS, with goldplan/testing from its separate sandbox package.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PKG } from './helpers.mjs'
import { packAll } from '../scripts/pack.mjs'

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

test('the packed tarballs install into an empty project and work from ESM and CJS', (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'goldplan-pack-'))
  // Debug addons make this a few hundred megabytes: never leave it behind.
  t.after(() => rmSync(work, { recursive: true, force: true }))
  // The same tarballs as `cargo make dist` (scripts/pack.mjs), from this checkout's addons.
  const tarballs = packAll(work)
  const main = tarballs[0]
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', main, 'package/package.json'], { encoding: 'utf8' }))
  assert.deepEqual(manifest.optionalDependencies, { 'goldplan-linux-x64-gnu': manifest.version })
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

test('without its platform package the facade says which package is missing', (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'goldplan-pack-'))
  t.after(() => rmSync(work, { recursive: true, force: true }))
  const [main] = packAll(work)
  const app = path.join(work, 'app')
  execFileSync('mkdir', ['-p', app])
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=optional', main], { cwd: app, encoding: 'utf8' })
  const r = spawnSync(process.execPath, ['-e', `
    try { require('goldplan'); console.log('loaded') } catch (e) { console.log(JSON.stringify({ name: e.name, kind: e.kind, message: e.message })) }
  `], { cwd: app, encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  const failure = JSON.parse(r.stdout)
  assert.equal(failure.kind, 'internal')
  assert.match(failure.message, /the platform package goldplan-linux-x64-gnu@\d+\.\d+\.\d+ .*is missing/)
  assert.doesNotMatch(failure.message, /npm has a bug|wasi/i)
})
