// Types of `bulk` (bulk.cjs): Gold Plan rolled out to many special merchants as one resumable
// job, through the Rust library's JSON surface. Hand-written; members are snake_case, as the
// library names them.

import type { Client } from './index'

/** One plan row: the desired switches of one special merchant (empty: leave alone). */
export interface PlanRow {
  sub_mchid: string
  gold_plan?: 'OPEN' | 'CLOSE' | string
  pay_scene?: string
  custom_page?: 'OPEN' | 'CLOSE' | string
  /** 1 to 3 industry tags joined with `|`. */
  industry_filter?: string
  ad_show?: 'OPEN' | 'CLOSE' | string
  /** 0 to 3 industry tags joined with `|`, only with `ad_show` OPEN. */
  ad_tags?: string
  [column: string]: unknown
}

/** Plan text with its name and, optionally, its format. */
export interface PlanText {
  text: string
  name?: string
  format?: 'csv' | 'jsonl'
}

/** A plan: a file path (CSV with a header, or JSON Lines), rows (row `i` is line `i + 1`), or text. */
export type Plan = string | URL | PlanRow[] | PlanText

/** A problem of a refused plan (`InvalidInputError.problems`). */
export interface PlanProblem {
  line: number
  column: string | null
  message: string
}

/** What `checkPlan` found in a valid plan. */
export interface PlanSummary {
  name: string
  sha256: string
  format: 'csv' | 'json_lines'
  merchants: number
  operations: number
  by_operation: Record<string, number>
}

/** The other run options, as the library names them (see `DEFAULT_OPTIONS`). */
export interface RunOptionsExtra {
  burst?: number
  min_rate_per_sec?: number
  max_attempts?: number
  max_rate_limited_attempts?: number
  base_delay_ms?: number
  max_delay_ms?: number
  progress_interval_ms?: number
}

/** A run event (`event` names it: `started`, `would_send`, `done`, `failed`, `retrying`, `rate_changed`, `progress`, `finished`). */
export interface BulkEvent {
  event: 'started' | 'would_send' | 'done' | 'failed' | 'retrying' | 'rate_changed' | 'progress' | 'finished' | string
  [member: string]: unknown
}

export interface RunOptions {
  /** Merchants worked on at once (library default 8). */
  concurrency?: number
  /** Operations per second at most; `null`: no rate of our own (library default 20). */
  rate?: number | null
  /** Send nothing; report `would_send` events. */
  dryRun?: boolean
  /** Every event, on the JS thread, one at a time; throwing stops the run (in-flight calls finish). */
  onEvent?: (event: BulkEvent) => void
  /** Names a plan given as rows (default `rows`). */
  name?: string
  options?: RunOptionsExtra
}

/** What a run did. */
export interface RunSummary {
  total: number
  done: number
  failed: number
  remaining: number
  done_this_run: number
  failed_this_run: number
  requests_sent: number
  rate_limited_answers: number
  retries: number
  requeued_in_flight: number
  would_send: number
  cancelled: boolean
  dry_run: boolean
  elapsed_secs: number
}

/** A switch as WeChat Pay last confirmed it. */
export interface Confirmed {
  value: string
  at: number
  at_rfc3339: string
  request_id: string | null
}

/** A failed operation. */
export interface FailureRow {
  id: number
  operation: string
  kind: string
  reason: string
  request_id: string | null
  attempts: number
  error: unknown
}

/** One special merchant's confirmed state. */
export interface ReportRow {
  sub_mchid: string
  line: number
  gold_plan: Confirmed | null
  pay_scene: string | null
  custom_page: Confirmed | null
  industry_filter: Confirmed | null
  ad_show: Confirmed | null
  pending: number
  failures: FailureRow[]
}

export interface Bulk {
  /** The run options with the library's defaults (snake_case). */
  readonly DEFAULT_OPTIONS: Readonly<Record<string, number | boolean | null>>
  /** Validates a plan; a plan with problems throws `InvalidInputError` with `problems`. */
  checkPlan (plan: Plan, options?: { name?: string }): PlanSummary
  /** Runs the plan's job, journaled in `journal` (an SQLite file); resumable. Build the client with `maxAttempts: 1`. */
  run (client: Client, plan: Plan, journal: string | URL, options?: RunOptions): Promise<RunSummary>
  /** One row per special merchant, in plan order. */
  report (journal: string | URL): ReportRow[]
  /** Puts failed operations back for the next run; returns how many. */
  retryFailed (journal: string | URL, options?: { includeReopenTooSoon?: boolean }): number
}
