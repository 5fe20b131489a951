// Worker-thread entry of the programmes' full recompute: registers tsx (as bin/yifang.js does)
// so the TypeScript module loads in a checkout without a build step, then runs it.
import { register } from 'tsx/esm/api';

register();
await import('./recompute-worker.ts');
