// Types of `goldplan/testing` (hand-written; checked by tsc on examples/node/typed.ts).

import type { Client, KeyMode } from './index'

/** What `sandbox.json` holds (test keys only). */
export interface SandboxInfo {
  base_url: string
  admin_url: string
  mchid: string
  serial_no: string
  private_key_pem: string
  certificate_pem: string
  apiv3_key: string
  public_key_id: string
  public_key_pem: string
  platform_certificates: Array<{ serial_no: string; [member: string]: unknown }>
  sub_mchids: string[]
  mode: KeyMode
}

export interface SandboxOptions {
  mode?: KeyMode
  mchid?: string
  subMchids?: string[]
  /** A settings patch in the sandbox's names (e.g. `{ callback_time_scale: 0.001 }`). */
  settings?: Record<string, unknown>
  /** Where `sandbox.json` and the state are written (and loaded from next time). */
  stateDir?: string
}

export interface SandboxClientOptions {
  mode?: KeyMode
  /** Seconds. */
  timeout?: number
  maxAttempts?: number
}

/** A record of the sandbox's admin API (snake_case, as the sandbox shows it). */
export type Json = Record<string, any>

/** The WeChat Pay sandbox running in this process, on 127.0.0.1 with a random port. */
export declare class Sandbox {
  private constructor ()
  static start (options?: SandboxOptions): Promise<Sandbox>
  readonly baseUrl: string
  readonly running: boolean
  readonly info: SandboxInfo
  /** A `Client` for the built-in service provider. */
  client (options?: SandboxClientOptions): Client
  stop (): Promise<void>
  currentInfo (): Promise<SandboxInfo>
  clock (): Promise<Json>
  advanceClock (seconds: number): Promise<Json>
  resetClock (): Promise<Json>
  settings (): Promise<Json>
  updateSettings (patch: Json): Promise<Json>
  registerMerchant (registration: Json): Promise<Json>
  merchants (): Promise<Json[]>
  merchant (mchid: string): Promise<Json>
  updateMerchant (mchid: string, patch: Json): Promise<Json>
  addSubMerchant (mchid: string, registration: Json): Promise<Json>
  subMerchant (mchid: string, subMchid: string): Promise<Json>
  updateSubMerchant (mchid: string, subMchid: string, patch: Json): Promise<Json>
  platformCertificates (): Promise<Json[]>
  rotatePlatformCertificate (request?: { validity_secs?: number; overlap_secs?: number; sign_with_new?: boolean }): Promise<{ new_serial_no: string; previous: Json[] }>
  expirePlatformCertificate (serialNo: string): Promise<null>
  injectFault (fault: { kind: string; count?: number; [member: string]: unknown }): Promise<null>
  faults (): Promise<Json[]>
  clearFaults (): Promise<null>
  /** Delivers a signed, encrypted callback to `request.url`. */
  sendCallback (request: { url: string; resource: unknown; [member: string]: unknown }): Promise<Json & { id: string }>
  waitForCallback (id: string, timeoutSecs?: number): Promise<Json & { status: 'pending' | 'delivered' | 'failed' }>
  callbacks (): Promise<Json[]>
  callback (id: string): Promise<Json>
  requests (): Promise<Json[]>
  clearRequests (): Promise<null>
  media (mediaId: string): Promise<Json>
}
