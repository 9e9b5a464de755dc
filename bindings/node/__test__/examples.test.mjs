// Every Node example runs, the README's Node quick start works as written, the facade's types
// pass `tsc --strict`, and the committed generated files match what napi generates.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as gp from '../index.mjs'
import { PKG, REPO } from './helpers.mjs'

const EXAMPLES = path.join(REPO, 'examples', 'node')

/** Lets the examples (and the README block) import 'goldplan' from this checkout, as an installed package. */
function linkPackage (dir) {
  const modules = path.join(dir, 'node_modules')
  mkdirSync(modules, { recursive: true })
  rmSync(path.join(modules, 'goldplan'), { force: true, recursive: true })
  symlinkSync(PKG, path.join(modules, 'goldplan'), 'dir')
}

test('every Node example runs', () => {
  linkPackage(EXAMPLES)
  const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.mjs'))
  assert.ok(examples.length >= 2, 'examples/node has its examples')
  for (const example of examples) {
    const r = spawnSync(process.execPath, [path.join(EXAMPLES, example)], { encoding: 'utf8', timeout: 120_000 })
    assert.equal(r.status, 0, `${example}: ${r.stdout}${r.stderr}`)
    assert.ok(r.stdout.trim(), `${example} should show what it did`)
    if (example === 'gold_plan.mjs') assert.match(r.stdout, /callback delivered/)
    if (example === 'callback_endpoint.mjs') assert.match(r.stdout, /paid: ORDER-2001[\s\S]*delivery delivered/)
  }
})

test("the README's Node quick start works as written", () => {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8')
  const section = readme.split('\n## Node.js\n')[1]?.split('\n## ')[0]
  assert.ok(section, 'the README has a Node.js section')
  const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
  assert.ok(blocks.length >= 1, 'the Node.js section has a js block')
  const dir = mkdtempSync(path.join(tmpdir(), 'goldplan-readme-'))
  linkPackage(dir)
  writeFileSync(path.join(dir, 'quick_start.mjs'), blocks[0])
  const r = spawnSync(process.execPath, ['quick_start.mjs'], { cwd: dir, encoding: 'utf8', timeout: 120_000 })
  rmSync(dir, { recursive: true, force: true })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /OPEN/)
})

test('the facade types pass tsc --strict on a TypeScript example', () => {
  linkPackage(EXAMPLES)
  const tsc = path.join(PKG, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(EXAMPLES, 'tsconfig.json')], { encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, r.stdout + r.stderr)
})

test('the generated enum types list exactly the core values', () => {
  const dts = readFileSync(path.join(PKG, 'index.d.ts'), 'utf8')
  const union = (name) => {
    const m = dts.match(new RegExp(`export type ${name} =(.*(?:\\n  \\|.*)*)`))
    assert.ok(m, name)
    return [...m[1].matchAll(/'([A-Za-z_]+)'/g)].map((x) => x[1]).sort()
  }
  assert.deepEqual(union('OperationType'), [...gp.OPERATION_TYPES].sort())
  assert.deepEqual(union('OperationPayScene'), [...gp.OPERATION_PAY_SCENES].sort())
  assert.deepEqual(union('AdvertisingIndustryFilter'), [...gp.INDUSTRY_TYPES].sort())
  assert.match(dts, /export type IndustryType = AdvertisingIndustryFilter\n/)
  assert.deepEqual(union('ErrorKind'), [...gp.ERROR_KINDS, 'sandbox'].sort())
})
