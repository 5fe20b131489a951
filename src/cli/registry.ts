/**
 * `yifang registry import <file...> [--kind areas|organizations|places] [--encoding name]`: load
 * master-data registry files (areas as GeoJSON/TopoJSON or CSV, organizations and places as CSV)
 * through the same import as /api/registry/import. Each file is all or nothing; every refused
 * line or feature is printed as file:line: reason, and the command exits 1 if any file was refused.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { FhirRepository } from '../fhir/repository.js';
import { openDefaultStore, type StoreCommandOptions } from './store.js';
import { importRegistryFile, MAX_REGISTRY_BYTES, REGISTRY_KINDS, type RegistryKind } from '../registry/index.js';

export type RegistryCommandOptions = StoreCommandOptions;

export function registerRegistryCommands(program: Command, options: RegistryCommandOptions = {}): Command {
  const openStore = options.openStore ?? openDefaultStore;
  const registry = program.command('registry').description('Master data registry (机构与地点): organizations, areas and places');
  registry
    .command('import')
    .description(
      `Import registry files, each all or nothing, in the order given (areas before the organizations and places in them). Areas: GeoJSON/TopoJSON (Polygon features; properties code, name, level, parent) or CSV (code,name,level,parent,gb2260,longitude,latitude). Organizations: CSV code,name,type,level,area,parent,longitude,latitude,address. Places: CSV code,name,type,sentinel,area,organization,longitude,latitude,address,grades,classes. Or a FHIR Bundle of Organization and Location resources (all three kinds). Headers may be Chinese (代码,名称,类别,…). At most ${MAX_REGISTRY_BYTES / 1048576} MB a file.`,
    )
    .argument('<files...>', '.geojson, .topojson, .json (GeoJSON, TopoJSON or a FHIR Bundle) or .csv files')
    .option('--kind <kind>', `what the files hold (${REGISTRY_KINDS.join(', ')}); detected when not given`)
    .option('--encoding <name>', "a CSV's encoding (utf-8, gb18030, gbk, …); detected when not given")
    .action(async function (this: Command, files: string[], opts: { kind?: string; encoding?: string }) {
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- commander passes the command as `this`
      const cmd = this;
      const out = cmd.configureOutput();
      const write = (s: string) => out.writeOut!(s);
      const writeErr = (s: string) => out.writeErr!(s);
      if (opts.kind && !REGISTRY_KINDS.includes(opts.kind as RegistryKind))
        cmd.error(`yifang registry import: --kind must be one of ${REGISTRY_KINDS.join(', ')}`, {
          exitCode: 2,
          code: 'yifang.registry.kind',
        });
      for (const f of files)
        if (!fs.existsSync(f))
          cmd.error(`yifang registry import: file '${f}' does not exist`, { exitCode: 2, code: 'yifang.registry.no-file' });
      let refusedFiles = 0;
      const store = await openStore();
      try {
        const repo = new FhirRepository(store.db);
        for (const file of files) {
          const r = await importRegistryFile(store.db, repo, fs.readFileSync(file), {
            kind: opts.kind as RegistryKind | undefined,
            encoding: opts.encoding,
            fileName: file,
            username: 'cli',
          });
          for (const x of r.refused.slice(0, 100))
            writeErr(`${file}:${x.line ?? (x.feature !== undefined ? `feature ${x.feature}` : '')}: ${x.reason}\n`);
          if (r.refused.length > 100) writeErr(`… and ${r.refused.length - 100} more refused\n`);
          if (r.stored)
            write(
              `${file}: ${r.kind}: ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged in ${r.seconds.toFixed(1)} s${r.boundaryBytes !== undefined ? `; boundaries ${Math.round(r.boundaryBytes / 1024)} KB after simplification` : ''}\n`,
            );
          else {
            refusedFiles++;
            write(`${file}: ${r.kind}: nothing stored (${r.refused.length} refused)\n`);
          }
        }
      } finally {
        await store.close();
      }
      if (refusedFiles)
        cmd.error(`yifang registry import: ${refusedFiles} of ${files.length} files refused`, {
          exitCode: 1,
          code: 'yifang.registry.refused',
        });
    });
  return registry;
}
