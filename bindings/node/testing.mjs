// ESM entry point of `goldplan/testing`: re-exports the CommonJS module (one module instance).
import cjs from './testing.cjs'

export const { Sandbox } = cjs
export default cjs
