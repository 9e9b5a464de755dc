#!/usr/bin/env node
// Memory of the Node binding over many calls: RSS after warm-up, then after every 10 000 of
// 50 000 calls (16 in flight) against one sandbox process, so growth (a leak per call) shows.
//
//   node bench/node_memory.js [--calls 50000] [--sandbox PATH]
'use strict'

const { spawn } = require('node:child_process')
const { mkdtempSync, readFileSync } = require('node:fs')
const { tmpdir } = require('node:os')
const path = require('node:path')
const readline = require('node:readline')

const REPO = path.resolve(__dirname, '..')
const argv = process.argv.slice(2)
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? argv[i + 1] : fallback
}
const CALLS = Number(arg('calls', 50000))
const SANDBOX = arg('sandbox', process.env.GOLDPLAN_SANDBOX_BIN ??
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(REPO, 'target'), 'release', 'goldplan-sandbox'))
const { Client } = require(path.join(REPO, 'bindings', 'node'))

const mib = (n) => (n / 1024 / 1024).toFixed(1)

async function main () {
  const state = mkdtempSync(path.join(tmpdir(), 'goldplan-mem-'))
  const child = spawn(SANDBOX, ['--state-dir', state, '--mode', 'public_key'], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    await new Promise((resolve, reject) => {
      child.once('error', reject)
      readline.createInterface({ input: child.stdout }).once('line', resolve)
    })
    const client = Client.fromFile(path.join(state, 'sandbox.json'))
    const sub = JSON.parse(readFileSync(path.join(state, 'sandbox.json'), 'utf8')).sub_mchids[0]
    let done = 0
    const lane = async (n) => {
      for (let i = 0; i < n; i++) {
        await client.changeGoldPlanStatus(sub, 'OPEN')
        done++
      }
    }
    await Promise.all(Array.from({ length: 16 }, () => lane(1000 / 16 | 0)))
    global.gc?.()
    const base = process.memoryUsage().rss
    console.log(`after warm-up (${done} calls): RSS ${mib(base)} MiB`)
    const step = 10000
    for (let at = 0; at < CALLS; at += step) {
      await Promise.all(Array.from({ length: 16 }, () => lane(step / 16 | 0)))
      global.gc?.()
      const rss = process.memoryUsage().rss
      console.log(`after ${done} calls: RSS ${mib(rss)} MiB (${rss >= base ? '+' : ''}${mib(rss - base)} MiB)`)
    }
  } finally {
    const exited = child.exitCode !== null ? null : new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited // it writes its state on the way out
    require('node:fs').rmSync(state, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
