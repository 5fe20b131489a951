// Worker-thread entry for the change-log processors: registers tsx (as bin/yifang.js does) so
// the TypeScript modules load in a checkout without a build step, then runs the host.
import { register } from 'tsx/esm/api';

register();
await import('./processor-host.ts');
