import {strict as assert} from 'node:assert'

// The build's patch module is plain CommonJS (scripts/ runs without compiling).
const {BundlePatchError, applyPatch, assertNoBareImport, routeBundleImports, patches} = require('../../scripts/bundle-patches.js')

const sortLine = '.sort((a, b) => a.id.localeCompare(b.id))'
const oclifPlugin = (sorts: number) => `class Plugin {\n  get commands() {\n    return list${sortLine.repeat(sorts)}\n  }\n}\n`
/** A minified-looking bundle with `routes` dynamic imports written `await import(`. */
const bundle = (routes: number, extra = '') =>
  'var a=async t=>{' + Array.from({length: routes}, (_, i) => `let m${i}=await import(t);`).join('') + `throw Error(\`\${e?"import()":"require"} failed\`)};${extra}`

function expectPatchError(run: () => unknown, patchName: string, writtenFor: string): void {
  assert.throws(run, (error: Error) => {
    assert.ok(error instanceof BundlePatchError, String(error))
    assert.match(error.message, new RegExp(`"${patchName}"`))
    assert.ok(error.message.includes(writtenFor), error.message)
    return true
  })
}

describe('build: bundle patches', () => {
  it('patches oclif\'s sort when it appears exactly once', () => {
    const patched = applyPatch(patches.oclifSort, oclifPlugin(1))
    assert.ok(!patched.includes('localeCompare'))
    assert.ok(patched.includes('.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))'))
  })

  it('fails loudly, naming the patch and the version it was written for, when the sort is gone (0 matches)', () => {
    expectPatchError(() => applyPatch(patches.oclifSort, oclifPlugin(0)), 'oclif-sort-without-icu', '@oclif/core 4.14.0')
  })

  it('fails loudly when the sort appears twice', () => {
    expectPatchError(() => applyPatch(patches.oclifSort, oclifPlugin(2)), 'oclif-sort-without-icu', '@oclif/core 4.14.0')
  })

  it('routes every `await import(` when the count is the expected one, leaving strings like "import()" alone', () => {
    const expected = patches.routeDynamicImports.expected
    const routed = routeBundleImports(bundle(expected))
    assert.equal(routed.split('await globalThis.__aivaultImport(').length - 1, expected)
    assert.ok(routed.includes('"import()"'))
  })

  it('fails when the bundle has fewer or more `await import(` than expected', () => {
    const expected = patches.routeDynamicImports.expected
    expectPatchError(() => routeBundleImports(bundle(0)), 'route-dynamic-imports', '@oclif/core 4.14.0')
    expectPatchError(() => routeBundleImports(bundle(expected + 1)), 'route-dynamic-imports', '@oclif/core 4.14.0')
  })

  it('fails when an import( not written `await import(` is left unrouted', () => {
    const expected = patches.routeDynamicImports.expected
    expectPatchError(() => routeBundleImports(bundle(expected, 'var b=t=>import(t).then(m=>m);')), 'route-dynamic-imports', 'unrouted')
    expectPatchError(() => assertNoBareImport('x=1;import (y)'), 'route-dynamic-imports', 'unrouted')
  })

  it('does not take member calls or longer names for a bare import(', () => {
    assertNoBareImport('loader.import(x);reimport(y);$import(z);"import()"')
  })
})
