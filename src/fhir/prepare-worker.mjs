// Worker-thread entry for bulk preparation: registers tsx (as bin/yifang.js does) so the
// TypeScript module loads in a checkout without a build step, then runs it.
import { register } from 'tsx/esm/api';

register();
await import('./prepare-worker.ts');
