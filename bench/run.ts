/**
 * `npm run bench`: every benchmark the issues name, printed as tables. Storage benchmarks run
 * on PGlite and on PostgreSQL (DATABASE_URL or 127.0.0.1:5432) side by side.
 *
 *   npm run bench [-- --only fhir,detectors] [-- --quick]
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1]!.split(',') : undefined;
const quick = argv.includes('--quick');

const here = path.dirname(new URL(import.meta.url).pathname);
/** name → [file, exported function, arguments] */
const suites: [string, string, string, string[]][] = [
  ['fhir', 'fhir.bench.ts', 'runFhirBench', quick ? ['--resources', '20000', '--store-size', '50000', '--samples', '100'] : []],
  ['fhir-cpu', 'fhir-cpu.bench.ts', 'runFhirCpuBench', quick ? ['--rounds', '3'] : []],
  ['detectors', 'detectors.bench.ts', 'runDetectorsBench', []],
  ['farrington', 'farrington.bench.ts', 'runFarringtonBench', []],
  ['simulator', 'simulator.bench.ts', 'runSimulatorBench', quick ? ['--quick'] : []],
  ['linkage', 'linkage.bench.ts', 'runLinkageBench', []],
  ['linkage-real', 'linkage-real.bench.ts', 'runRealLinkageBench', []],
  ['mllp', 'mllp.bench.ts', 'runMllpBench', []],
  ['surveillance', 'surveillance.bench.ts', 'runSurveillanceBench', []],
  ['chronic', 'chronic.bench.ts', 'runChronicBench', []],
  ['programmes', 'programmes.bench.ts', 'runProgrammesBench', quick ? ['--residents', '50000', '--queries', '20'] : []],
  ['audit', 'audit.bench.ts', 'runAuditBench', quick ? ['--quick'] : []],
  ['access', 'access.bench.ts', 'runAccessBench', quick ? ['--quick'] : []],
  ['resilience', 'resilience.bench.ts', 'runResilienceBench', quick ? ['--quick'] : []],
  ['terminology', 'terminology.bench.ts', 'runTerminologyBench', quick ? ['--messages', '20'] : []],
  ['registry', 'registry.bench.ts', 'runRegistryBench', []],
  ['hospital-feeds', 'hospital-feeds.bench.ts', 'runHospitalFeedsBench', quick ? ['--rows', '5000'] : []],
  ['r-peer', 'r-peer.bench.ts', 'runRPeerBench', quick ? ['--quick'] : []],
  ['scan', 'scan.bench.ts', 'runScanBench', quick ? ['--quick'] : []],
  ['fusion-sizes', 'fusion-sizes.bench.ts', 'runFusionSizesBench', quick ? ['--quick'] : []],
  ['screens', 'screens.bench.ts', 'runScreensBench', quick ? ['--quick'] : []],
  ['lab', 'lab.bench.ts', 'runLabBench', quick ? ['--samples', '20'] : []],
  ['lab-results', 'lab-results.bench.ts', 'runLabResultsBench', quick ? ['--positives', '20'] : []],
  ['investigation', 'investigation.bench.ts', 'runInvestigationBench', quick ? ['--quick'] : []],
  ['contacts', 'contacts.bench.ts', 'runContactsBench', quick ? ['--quick'] : []],
  ['cold-chain', 'cold-chain.bench.ts', 'runColdChainBench', quick ? ['--quick'] : []],
  ['portal', 'portal.bench.ts', 'runPortalBench', quick ? ['--quick'] : []],
];

if (argv.includes('--help')) {
  console.log(
    `npm run bench -- [--only <section,...>] [--quick]\n\nSections, in the order they run:\n  ${suites.map((x) => x[0]).join(', ')}\n\n` +
      'Storage sections run on PGlite and, when reachable (DATABASE_URL or 127.0.0.1:5432), on PostgreSQL side by side.\n' +
      '--quick: smaller inputs for a smoke run (figures are not comparable with the targets).',
  );
  process.exit(0);
}

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}
for (const url of [process.env.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/test']) {
  if (url && (await reachable(url))) {
    process.env.YIFANG_TEST_PG_URL = url;
    break;
  }
}
delete process.env.DATABASE_URL;
console.log(process.env.YIFANG_TEST_PG_URL ? 'Stores: PGlite and PostgreSQL' : 'Stores: PGlite only (no PostgreSQL reachable)');

for (const [name, file, fn, args] of suites) {
  if (only && !only.includes(name)) continue;
  if (!fs.existsSync(path.join(here, file))) continue;
  console.log(`\n=== ${name} (${file}) ===`);
  const started = Date.now();
  try {
    const mod = (await import(`./${file}`)) as Record<string, (argv?: string[]) => Promise<unknown>>;
    const run = mod[fn];
    if (!run) throw new Error(`${file} does not export ${fn}`);
    await run(args);
  } catch (err) {
    console.error(`[bench ${name}] failed: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  }
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
// Every table is printed: leave even if a library left a handle open (a pool's idle timer, a
// worker), instead of hanging after the last section.
process.exit(process.exitCode ?? 0);
