/**
 * `yifang feed school-absenteeism FILE`, `yifang feed pharmacy-sales FILE` and `yifang feed sentinel-reports FILE`: load a feed file
 * into the store. The file's encoding is `--encoding` when given, else detected (UTF-8, GB18030,
 * …); a file that decodes in no encoding is refused, naming the bytes.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { COLUMNS, FEEDS, MAX_FEED_BYTES, MAX_FEED_ROWS, storeFeed, type FeedName } from '../feeds/index.js';
import { openDefaultStore, type StoreCommandOptions } from './store.js';

export type FeedCommandOptions = StoreCommandOptions;

export function registerFeedCommands(program: Command, options: FeedCommandOptions = {}): Command {
  const openStore = options.openStore ?? openDefaultStore;
  const feed = program.command('feed').description('Load surveillance feed files (CSV or JSON)');
  for (const name of FEEDS) {
    feed
      .command(name)
      .description(
        `Load ${name} rows; CSV header ${COLUMNS[name].join(',')}, or a JSON array (at most ${MAX_FEED_BYTES / 1048576} MB and ${MAX_FEED_ROWS} rows)`,
      )
      .argument('<file>', 'a .csv or .json file')
      .option('--encoding <name>', "the file's encoding (utf-8, gb18030, gbk, big5, utf-16le, …); detected when not given")
      .action(async function (this: Command, file: string, opts: { encoding?: string }) {
        // eslint-disable-next-line @typescript-eslint/no-this-alias -- commander passes the command as `this`
        const cmd = this;
        const out = cmd.configureOutput();
        const write = (s: string) => out.writeOut!(s);
        const writeErr = (s: string) => out.writeErr!(s);
        if (!fs.existsSync(file))
          cmd.error(`yifang feed ${name}: file '${file}' does not exist`, { exitCode: 2, code: 'yifang.feed.no-file' });
        let failure: string | undefined;
        const store = await openStore();
        try {
          const bytes = fs.readFileSync(file);
          const format = file.toLowerCase().endsWith('.json') ? 'json' : 'csv';
          const r = await storeFeed(store.db, name as FeedName, bytes, format, { source: file, encoding: opts.encoding });
          for (const e of r.errors.slice(0, 50)) writeErr(`${file}:${e.line}: ${e.message}\n`);
          if (r.errors.length > 50) writeErr(`… and ${r.errors.length - 50} more errors\n`);
          write(
            `${name}: ${r.accepted} of ${r.lines} lines stored, ${r.rejected} rejected (upload ${r.uploadId}${r.encoding ? `, read as ${r.encoding}` : ''})\n`,
          );
          if (r.fatal) failure = 'nothing stored';
          else if (r.rejected) failure = `${r.rejected} lines rejected`;
        } catch (e) {
          // Refusals (over the size limits, unknown encoding) carry an HTTP status: one line, exit 1.
          if (e instanceof Error && 'status' in e) failure = e.message;
          else throw e;
        } finally {
          await store.close();
        }
        // After the store is closed: without exitOverride, cmd.error exits the process at once.
        if (failure) cmd.error(`yifang feed ${name}: ${failure}`, { exitCode: 1, code: 'yifang.feed.refused' });
      });
  }
  return feed;
}
