// Module walls (issue #13), checked by `npm run lint` (depcruise). Layers, bottom to top:
//   src/shared    pure domain helpers (ID numbers, dates, schedules): import nothing of ours
//   src/platform  database, config, errors, processors, auth, migrations: shared only
//                 (the module contract may name FHIR store types, type-only)
//   src/fhir      the FHIR R4 store, REST, bundles, audit: platform and shared
//   capabilities  hl7v2, feeds, identity, surveillance, primary-care, simulator, …: the layers
//                 below, and another capability only through its public entry (index.ts)
//   src/app, src/cli  composition roots: anything
//   web/          the browser app: src/shared, and other server code only as types
// Tests may start a whole server (src/app/testing.ts) whatever their folder.
const TESTS = '\\.(test|testutil)\\.ts$|/test-support\\.ts$';
const CAPABILITIES =
  '(hl7v2|feeds|identity|surveillance|primary-care|simulator|exports|quality|terminology|registry|hospital-feeds|investigation|lab|vaccine-supply|emergency|scorecard|portal|portrait|subscriptions|monthly-report)';
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make modules impossible to read or test alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-is-pure',
      severity: 'error',
      comment: 'src/shared holds pure helpers with no dependency on the rest of the server.',
      from: { path: '^src/shared/', pathNot: TESTS },
      to: { path: '^src/(?!shared/)' },
    },
    {
      name: 'platform-imports-no-capability',
      severity: 'error',
      comment:
        'src/platform is the bottom layer: it may not import capabilities, the FHIR store (except types in the module contract), the CLI or the composition root.',
      from: { path: '^src/platform/', pathNot: TESTS },
      to: { path: '^src/(?!platform/|shared/)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'platform-names-fhir-types-only-in-the-module-contract',
      severity: 'error',
      from: { path: '^src/platform/', pathNot: ['^src/platform/module\\.ts$', TESTS] },
      to: { path: '^src/(?!platform/|shared/)' },
    },
    {
      name: 'fhir-imports-no-capability',
      severity: 'error',
      comment: 'The FHIR store sits below every capability.',
      from: { path: '^src/fhir/', pathNot: TESTS },
      to: { path: '^src/(?!fhir/|platform/|shared/)' },
    },
    {
      name: 'nothing-imports-the-composition-root',
      severity: 'error',
      comment: 'src/app and src/cli wire modules together; nothing below may import them.',
      from: { path: '^src/(?!app/|cli/)', pathNot: TESTS },
      to: { path: '^src/(app|cli)/' },
    },
    {
      name: 'capabilities-meet-through-their-entry',
      severity: 'error',
      comment: "A capability may use another only through that capability's public entry file (src/<capability>/index.ts).",
      // Tests may drive another capability through its test helpers (an MLLP client, sample files).
      from: { path: `^src/${CAPABILITIES}/`, pathNot: '\\.test\\.ts$' },
      to: { path: `^src/${CAPABILITIES}/(?!index\\.ts$)`, pathNot: ['^src/$1/'] },
    },
    {
      name: 'web-imports-server-only-as-types',
      severity: 'error',
      comment: 'The browser bundle must not pull server code in: import type only (src/shared is pure and may be bundled).',
      from: { path: '^web/' },
      to: { path: '^src/(?!shared/)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'production-code-imports-no-tests',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.(test|testutil)\\.ts$|^src/app/(testing|test-stores)\\.ts$|/test-support\\.ts$|/testing\\.ts$' },
      to: { path: '\\.(test|testutil)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
