/** Runtime configuration from the environment, validated once at start. */
import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  YIFANG_DATA_DIR: z.string().default('./data'),
  YIFANG_ADMIN_PASSWORD: z.string().min(8).default('yifang-admin'),
  YIFANG_BODY_LIMIT_MB: z.coerce.number().positive().default(32),
  YIFANG_SHARED_DIR: z.string().default(path.resolve(process.cwd(), '../shared')),
});

export type Config = z.infer<typeof schema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${msg}`);
  }
  return parsed.data;
}
