// Parity with the core's operation registry (`bindings/operations.json`) and the operation
// vectors (`tests/vectors/operations/`), the cases every language runs (the Rust reference is
// tests/e2e/tests/operations.rs):
// 1. every registry entry has its canonical name (camelCase) on its receiver — `Client`, the
//    package's exports, `Signer` or `Verifier` — callable and declared in index.d.ts; driven by
//    the file, so a new registry entry fails here until the binding has it;
// 2. every vector case runs through the typed method against a fresh sandbox, with its
//    arguments passed positionally in the registry's parameter order (JSON objects such as
//    `amount` and `payer` as plain objects, integers as numbers), and the gateway's request log
//    (method, path, body), the result (or, for values the server chooses, `result_keys`: the
//    set of keys, each a non-empty string) or the error kind/code are checked;
// 3. every vector file is read, and every remote operation has one.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import * as gp from '../index.mjs'
import { Sandbox } from '../testing.mjs'
import { require, PKG, REPO, VECTORS } from './helpers.mjs'

const OPERATIONS = JSON.parse(readFileSync(path.join(REPO, 'bindings', 'operations.json'), 'utf8'))
const BY_NAME = new Map(OPERATIONS.map((op) => [op.name, op]))
const OPERATION_VECTORS = path.join(VECTORS, 'operations')
const DECLARATIONS = readFileSync(path.join(PKG, 'index.d.ts'), 'utf8')
const cjs = require('../index.cjs')

/** The registry's snake_case name as Node spells it. */
const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())

/** The body of `export declare class <name> { … }` in index.d.ts (its members, one a line). */
function declaredClass (name) {
  const start = DECLARATIONS.indexOf(`export declare class ${name} `)
  assert.ok(start >= 0, `index.d.ts declares class ${name}`)
  const end = DECLARATIONS.indexOf('\n}\n', start)
  assert.ok(end > start, `index.d.ts: class ${name} is closed`)
  return DECLARATIONS.slice(start, end)
}

/** Where each receiver of the registry lives in this package, and how index.d.ts declares it. */
const RECEIVERS = {
  client: { holders: [gp.Client.prototype, cjs.Client.prototype], declared: (m) => new RegExp(`\\n  ${m} \\(`).test(declaredClass('Client')) },
  module: { holders: [gp, cjs], declared: (m) => new RegExp(`\\nexport declare function ${m} \\(`).test(DECLARATIONS) },
  signer: { holders: [gp.Signer.prototype, cjs.Signer.prototype], declared: (m) => new RegExp(`\\n  ${m} \\(`).test(declaredClass('Signer')) },
  verifier: { holders: [gp.Verifier.prototype, cjs.Verifier.prototype], declared: (m) => new RegExp(`\\n  ${m} \\(`).test(declaredClass('Verifier')) }
}

test('the registry is the one this suite knows how to read', () => {
  assert.ok(Array.isArray(OPERATIONS), 'operations.json is a list of operations')
  assert.ok(OPERATIONS.length >= 20, `only ${OPERATIONS.length} operations`)
  for (const kind of ['remote', 'client', 'local', 'method']) {
    assert.ok(OPERATIONS.some((op) => op.kind === kind), `no ${kind} operation in operations.json`)
  }
})

test('every registry operation has its canonical name on its receiver', () => {
  for (const op of OPERATIONS) {
    const receiver = RECEIVERS[op.receiver]
    assert.ok(receiver, `${op.name}: receiver ${JSON.stringify(op.receiver)} has no place in the Node binding`)
    const method = camel(op.name)
    for (const holder of receiver.holders) {
      assert.equal(typeof holder[method], 'function', `${op.name}: ${op.receiver} has no callable ${method}`)
      // A method that declares fewer arguments than the registry requires cannot take them
      // positionally.
      const required = op.parameters.filter((p) => p.required).length
      assert.ok(holder[method].length >= required,
        `${op.name}: ${method} takes ${holder[method].length} arguments, the registry requires ${required}`)
    }
    assert.ok(receiver.declared(method), `${op.name}: index.d.ts does not declare ${method} on ${op.receiver}`)
  }
})

const READ = new Set()

/** A vector file, read and checked against the registry. */
function loadOperationVectors (file) {
  READ.add(file)
  const v = JSON.parse(readFileSync(path.join(OPERATION_VECTORS, file), 'utf8'))
  assert.equal(v.format_version, 1, file)
  assert.equal(`${v.operation}.json`, file, `${file} names operation ${v.operation}`)
  const op = BY_NAME.get(v.operation)
  assert.ok(op, `${file}: ${v.operation} is not in operations.json`)
  assert.equal(op.kind, 'remote', `${file}: ${v.operation} is not a remote operation`)
  return { v, op }
}

/** The arguments of a vector (wire names) in the registry's parameter order; absent → undefined. */
function positional (op, args, what) {
  const names = op.parameters.map((p) => p.name)
  for (const given of Object.keys(args)) {
    assert.ok(names.includes(given), `${what}: ${given} is not a parameter of ${op.name}`)
  }
  return names.map((name) => (Object.hasOwn(args, name) ? args[name] : undefined))
}

/** Calls the typed method of `op` on `client` with the vector's arguments. */
function callTyped (client, op, args, what) {
  const method = camel(op.name)
  assert.equal(typeof client[method], 'function', `${what}: Client has no ${method}`)
  return client[method](...positional(op, args, what))
}

const VECTOR_FILES = readdirSync(OPERATION_VECTORS).filter((f) => f.endsWith('.json')).sort()

for (const file of VECTOR_FILES) {
  test(`operation vectors: ${file}`, async () => {
    const { v, op } = loadOperationVectors(file)
    assert.ok(v.cases.length >= 1, `${file} has no cases`)
    const sandbox = await Sandbox.start({ mode: 'public_key' })
    try {
      const client = sandbox.client()
      for (const step of v.before ?? []) {
        const setup = BY_NAME.get(step.operation)
        assert.ok(setup, `${file}: before names ${step.operation}, not in operations.json`)
        await callTyped(client, setup, step.arguments, `${file}: before ${step.operation}`)
      }
      for (const c of v.cases) {
        const name = `${v.operation}: ${c.name}`
        await sandbox.clearRequests()
        let outcome
        try {
          outcome = { ok: await callTyped(client, op, c.arguments, name) }
        } catch (e) {
          outcome = { error: e }
        }
        const logged = await sandbox.requests()
        if (c.request === null) {
          assert.deepEqual(logged, [], `${name}: reached the gateway`)
        } else {
          assert.ok(logged.length > 0, `${name}: nothing sent`)
          const last = logged[logged.length - 1]
          assert.equal(last.method, c.request.method, name)
          assert.equal(last.path, c.request.path, name)
          assert.equal(typeof c.request.body, 'string', `${name}: the vector's body is text`)
          assert.equal(last.body, c.request.body, name)
        }
        if (c.error !== undefined) {
          assert.ok(outcome.error, `${name}: expected ${c.error.kind}, got ${JSON.stringify(outcome.ok)}`)
          const e = outcome.error
          assert.ok(e instanceof gp.GoldPlanError, `${name}: not a GoldPlanError: ${e}`)
          assert.equal(e.kind, c.error.kind, `${name}: ${e.message}`)
          if (c.error.code !== undefined) assert.equal(e.code, c.error.code, `${name}: ${e.message}`)
        } else if (c.result_keys !== undefined) {
          // Values the server chooses (a prepay_id): exactly these keys, each a non-empty string.
          if (outcome.error) throw outcome.error
          assert.equal(c.result, undefined, `${name}: a case has result or result_keys, not both`)
          assert.ok(Array.isArray(c.result_keys) && c.result_keys.length > 0, `${name}: result_keys is a non-empty list`)
          const data = outcome.ok.data
          assert.ok(data !== null && typeof data === 'object' && !Array.isArray(data), `${name}: result ${JSON.stringify(data)} is not an object`)
          assert.deepEqual(Object.keys(data).sort(), [...c.result_keys].sort(), name)
          for (const key of c.result_keys) {
            assert.equal(typeof data[key], 'string', `${name}: ${key} is not a string`)
            assert.ok(data[key].length > 0, `${name}: ${key} is empty`)
          }
          assert.ok(outcome.ok.requestId, `${name}: no Request-ID`)
        } else {
          if (outcome.error) throw outcome.error
          // As the Rust reference: an absent `result` is JSON null (a 204).
          assert.deepEqual(outcome.ok.data, c.result ?? null, name)
          assert.ok(outcome.ok.requestId, `${name}: no Request-ID`)
        }
      }
    } finally {
      await sandbox.stop()
    }
  })
}

test('every operation vector file is read, and every remote operation has one', () => {
  // Runs last (tests in a file run in order): a vector file nobody reads is a defect, and so is
  // a remote operation no vector covers.
  assert.deepEqual([...READ].sort(), VECTOR_FILES)
  const remote = OPERATIONS.filter((op) => op.kind === 'remote').map((op) => `${op.name}.json`).sort()
  assert.deepEqual(VECTOR_FILES, remote)
})
